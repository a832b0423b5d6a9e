/**
 * `liveswap protect add|list|remove`: the faces `liveswap serve` refuses as a source. Each photo's
 * largest face is embedded with FaceRes and kept with the photo's SHA-256 and a label under
 * LIVESWAP_HOME; the photo itself is not kept.
 */

import { basename } from 'node:path';
import { Command } from 'commander';
import { LiveswapError } from '../core/errors.js';
import type { Terminal } from './errors.js';
import { addFlags, type FlagsOf } from './option-table.js';

export type ProtectAddFlags = FlagsOf<'protect add'>;
export type ProtectListFlags = FlagsOf<'protect list'>;
export type ProtectRemoveFlags = FlagsOf<'protect remove'>;

export interface ProtectActions {
  add(photos: string[], flags: ProtectAddFlags): Promise<void>;
  list(flags: ProtectListFlags): Promise<void>;
  remove(id: string, flags: ProtectRemoveFlags): Promise<void>;
}

/** `liveswap protect` with its subcommands. */
export function createProtectCommand(actions: ProtectActions): Command {
  const protect = new ProtectCommand('protect').description('Register the faces of people who must never be used as a source by `liveswap serve`.');
  addFlags(
    protect
      .command('add')
      .description("protect a person: each photo's largest face is embedded (FaceRes) and kept with the photo's hash; the photo is not stored")
      .argument('<photo...>', 'photos of the person (JPEG, PNG or WebP)'),
    'protect add',
  ).action(async (photos: string[], flags: ProtectAddFlags) => actions.add(photos, flags));
  addFlags(protect.command('list').description('list the protected faces: id, label, photo hash, when added'), 'protect list').action(async (flags: ProtectListFlags) =>
    actions.list(flags),
  );
  addFlags(protect.command('remove').description('stop protecting one face').argument('<id>', 'the id `protect list` shows'), 'protect remove').action(
    async (id: string, flags: ProtectRemoveFlags) => actions.remove(id, flags),
  );
  return protect;
}

/** Passes the program's exit override and output settings on to the subcommands as well. */
class ProtectCommand extends Command {
  override copyInheritedSettings(source: Command): this {
    super.copyInheritedSettings(source);
    for (const sub of this.commands) sub.copyInheritedSettings(this);
    return this;
  }
}

async function homeOr(home: string | undefined): Promise<string> {
  if (home !== undefined) return home;
  const { defaultHome } = await import('../node/models/model-cache.js');
  return defaultHome();
}

export async function runProtectAdd(photos: string[], flags: ProtectAddFlags, terminal: Terminal, home?: string): Promise<void> {
  const label = (flags.label ?? '').trim();
  if (label === '') throw new LiveswapError('usage', 'Give the person a label with --label (e.g. a name); it is shown only to the operator.');
  const root = await homeOr(home);
  const [{ readImage }, { sha256File }, { STILL_DEFAULTS }, protectedFaces] = await Promise.all([
    import('../node/media/image-io.js'),
    import('../node/files/hash.js'),
    import('../pipeline/options.js'),
    import('../node/service/protected-faces.js'),
  ]);
  // Every photo is read and checked for a face before anything is stored.
  const images = [];
  for (const photo of photos) images.push({ photo, image: await readImage(photo, { maxPixels: STILL_DEFAULTS.paint.maxPixels }), sha256: await sha256File(photo) });
  const embedder = await protectedFaces.openPhotoFaceEmbedder({ home: root });
  const found: { photo: string; sha256: string; embedding: Float32Array; faces: number }[] = [];
  try {
    for (const { photo, image, sha256 } of images) {
      const faces = await embedder.embedFaces(image);
      if (faces.length === 0)
        throw new LiveswapError('no-face', `No face found in ${photo}: nothing was protected. Use a photo where the face is clearly visible.`, { file: photo });
      found.push({ photo, sha256, embedding: faces[0]!.embedding, faces: faces.length });
    }
  } finally {
    await embedder.close();
  }
  const store = await protectedFaces.FileProtectedFaceStore.open(root);
  for (const f of found) {
    const added = await store.add({ label, photoSha256: f.sha256, recogniser: embedder.recogniser, embedding: Array.from(f.embedding) });
    terminal.out(added.id);
    terminal.err(`liveswap: protected "${label}" from ${basename(f.photo)}${f.faces > 1 ? ` (the largest of ${f.faces} faces)` : ''} as ${added.id}`);
  }
}

export async function runProtectList(flags: ProtectListFlags, terminal: Terminal, home?: string): Promise<void> {
  const { FileProtectedFaceStore } = await import('../node/service/protected-faces.js');
  const faces = await (await FileProtectedFaceStore.open(await homeOr(home))).list();
  if (flags.json) {
    terminal.out(JSON.stringify(faces.map(({ embedding: _embedding, ...rest }) => rest)));
    return;
  }
  for (const f of faces) terminal.out(`${f.id}  ${f.label}  photo sha256 ${f.photoSha256.slice(0, 12)}…  added ${f.addedAt}  (${f.recogniser})`);
  terminal.err(`liveswap: ${faces.length} protected face(s)`);
}

export async function runProtectRemove(id: string, _flags: ProtectRemoveFlags, terminal: Terminal, home?: string): Promise<void> {
  const { FileProtectedFaceStore } = await import('../node/service/protected-faces.js');
  const removed = await (await FileProtectedFaceStore.open(await homeOr(home))).remove(id);
  if (!removed) throw new LiveswapError('usage', `There is no protected face ${JSON.stringify(id)}; \`liveswap protect list\` shows the ids.`);
  terminal.err(`liveswap: ${id} is no longer protected`);
}
