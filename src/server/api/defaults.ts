/** Where `liveswap serve` listens unless told otherwise (kept apart so the CLI's flag table need not load the server). */

export const DEFAULT_API_HOST = '127.0.0.1';
export const DEFAULT_API_PORT = 8080;
