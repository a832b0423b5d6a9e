/**
 * Measures FaceRes cosine similarities of same-person and different-person pairs, the figures
 * behind PROTECTED_FACE_THRESHOLD (src/node/service/protected-faces.ts). Faces are found and
 * embedded exactly as `liveswap protect add` and the API do (the largest face of each photo).
 *
 *   node --import tsx tools/protected-face-threshold.ts <people folder> [--groups <folder>]
 *
 * The people folder holds one subfolder of photos per person; group photos (optional) add every
 * face they hold as a different-person impostor against every person's photos.
 */

import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readImage } from '../src/node/media/image-io.js';
import { cosineSimilarity, openPhotoFaceEmbedder, PROTECTED_FACE_THRESHOLD } from '../src/node/service/protected-faces.js';

const PHOTO = /\.(jpe?g|png|webp)$/i;

async function main(): Promise<void> {
  const [people, flag, groups] = process.argv.slice(2);
  if (!people || (flag !== undefined && (flag !== '--groups' || !groups))) {
    process.stderr.write('usage: node --import tsx tools/protected-face-threshold.ts <people folder> [--groups <folder>]\n');
    process.exit(2);
  }
  const embedder = await openPhotoFaceEmbedder();
  const faces: { person: string; photo: string; embedding: Float32Array }[] = [];
  const impostors: { photo: string; embedding: Float32Array }[] = [];
  try {
    for (const person of (await readdir(people)).sort()) {
      for (const name of (await readdir(join(people, person)).catch(() => [] as string[])).filter((n) => PHOTO.test(n)).sort()) {
        const image = await readImage(join(people, person, name), { maxPixels: 50_000_000 });
        const found = await embedder.embedFaces(image);
        if (found.length === 0) process.stderr.write(`no face: ${person}/${name}\n`);
        else faces.push({ person, photo: `${person}/${name}`, embedding: found[0]!.embedding });
      }
    }
    if (groups) {
      for (const name of (await readdir(groups)).filter((n) => PHOTO.test(n)).sort()) {
        const image = await readImage(join(groups, name), { maxPixels: 50_000_000 });
        for (const [i, face] of (await embedder.embedFaces(image)).entries()) impostors.push({ photo: `${basename(name)}#${i}`, embedding: face.embedding });
      }
    }
  } finally {
    await embedder.close();
  }
  const same: { a: string; b: string; s: number }[] = [];
  const different: { a: string; b: string; s: number }[] = [];
  for (let i = 0; i < faces.length; i++) {
    for (let j = i + 1; j < faces.length; j++) {
      const pair = { a: faces[i]!.photo, b: faces[j]!.photo, s: cosineSimilarity(faces[i]!.embedding, faces[j]!.embedding) };
      (faces[i]!.person === faces[j]!.person ? same : different).push(pair);
    }
  }
  const summary = (list: { s: number }[]) => {
    const v = list.map((p) => p.s).sort((a, b) => a - b);
    const q = (f: number) => v[Math.min(v.length - 1, Math.floor(f * (v.length - 1)))] ?? Number.NaN;
    return `n=${v.length} min ${q(0).toFixed(3)} p10 ${q(0.1).toFixed(3)} median ${q(0.5).toFixed(3)} p90 ${q(0.9).toFixed(3)} max ${q(1).toFixed(3)}`;
  };
  console.log(`faces: ${faces.length} photos of ${new Set(faces.map((f) => f.person)).size} people; ${impostors.length} faces in group photos`);
  console.log(`same person      ${summary(same)}`);
  console.log(`different people ${summary(different)}`);
  for (const p of [...same].sort((x, y) => x.s - y.s).slice(0, 3)) console.log(`  lowest same:      ${p.s.toFixed(3)}  ${p.a} ~ ${p.b}`);
  for (const p of [...different].sort((x, y) => y.s - x.s).slice(0, 3)) console.log(`  highest different: ${p.s.toFixed(3)}  ${p.a} ~ ${p.b}`);
  if (impostors.length) {
    // Group faces against every person: the best match per group face, and whether it is that person.
    for (const imp of impostors) {
      const best = faces.map((f) => ({ f, s: cosineSimilarity(f.embedding, imp.embedding) })).sort((x, y) => y.s - x.s)[0];
      if (best) console.log(`  group face ${imp.photo}: best ${best.s.toFixed(3)} (${best.f.photo})`);
    }
  }
  for (const t of [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7]) {
    const missed = same.filter((p) => p.s < t).length;
    const falseHits = different.filter((p) => p.s >= t).length;
    console.log(
      `threshold ${t.toFixed(2)}${t === PROTECTED_FACE_THRESHOLD ? ' (chosen)' : ''}: same-person pairs missed ${missed}/${same.length}, different-person pairs matched ${falseHits}/${different.length}`,
    );
  }
}

await main();
