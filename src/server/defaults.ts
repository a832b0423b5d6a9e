/** Where `liveswap ui` listens unless told otherwise; kept apart so the CLI can show it without loading the server. */

export const DEFAULT_UI_HOST = '127.0.0.1';
/** Gradio's default port, familiar to users of Python face-swap web UIs. */
export const DEFAULT_UI_PORT = 7860;
