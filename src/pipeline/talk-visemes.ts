/**
 * Speech sounds to mouth shapes for talking portraits: every ARPAbet phone flite speaks (and the
 * Oculus viseme names, for external TTS that gives visemes) mapped to one of a small set of
 * visemes, each a target mouth shape. Also the reading of phone tracks: flite's `-psdur` output
 * (`phone:end` pairs) and a caller's track file (one `phone end_seconds` per line, or JSON).
 */

import { LiveswapError } from '../core/errors.js';

/** A mouth shape: `open` the lip gap (0 closed … 1 wide open), `wide` lips spread, `round` lips pursed (both 0–1). */
export interface MouthShape {
  open: number;
  wide: number;
  round: number;
}

/** The visemes (Oculus-style names): silence, closed lips, lip to teeth, tongue sounds, open vowels, rounded vowels. */
export const VISEMES = ['sil', 'PP', 'FF', 'TH', 'DD', 'kk', 'CH', 'SS', 'nn', 'RR', 'aa', 'E', 'ih', 'oh', 'ou'] as const;
export type Viseme = (typeof VISEMES)[number];

/**
 * What each phone does to the mouth: its viseme and its own shape (open vowels by size: `aa` opens
 * fully, `ax` half). Phones are flite's US English set (cmu_us, lower case, no stress digits).
 */
export const PHONE_SHAPES: Readonly<Record<string, { viseme: Viseme; shape: MouthShape }>> = Object.freeze({
  pau: { viseme: 'sil', shape: { open: 0, wide: 0, round: 0 } },
  'h#': { viseme: 'sil', shape: { open: 0, wide: 0, round: 0 } },
  p: { viseme: 'PP', shape: { open: 0, wide: 0, round: 0 } },
  b: { viseme: 'PP', shape: { open: 0, wide: 0, round: 0 } },
  m: { viseme: 'PP', shape: { open: 0, wide: 0, round: 0 } },
  em: { viseme: 'PP', shape: { open: 0, wide: 0, round: 0 } },
  f: { viseme: 'FF', shape: { open: 0.12, wide: 0.25, round: 0 } },
  v: { viseme: 'FF', shape: { open: 0.12, wide: 0.25, round: 0 } },
  th: { viseme: 'TH', shape: { open: 0.2, wide: 0.2, round: 0 } },
  dh: { viseme: 'TH', shape: { open: 0.2, wide: 0.2, round: 0 } },
  t: { viseme: 'DD', shape: { open: 0.25, wide: 0.25, round: 0 } },
  d: { viseme: 'DD', shape: { open: 0.25, wide: 0.25, round: 0 } },
  dx: { viseme: 'DD', shape: { open: 0.22, wide: 0.2, round: 0 } },
  n: { viseme: 'nn', shape: { open: 0.22, wide: 0.2, round: 0 } },
  nx: { viseme: 'nn', shape: { open: 0.22, wide: 0.2, round: 0 } },
  en: { viseme: 'nn', shape: { open: 0.22, wide: 0.2, round: 0 } },
  l: { viseme: 'nn', shape: { open: 0.25, wide: 0.15, round: 0 } },
  el: { viseme: 'nn', shape: { open: 0.25, wide: 0.15, round: 0 } },
  k: { viseme: 'kk', shape: { open: 0.3, wide: 0.15, round: 0 } },
  g: { viseme: 'kk', shape: { open: 0.3, wide: 0.15, round: 0 } },
  ng: { viseme: 'kk', shape: { open: 0.28, wide: 0.15, round: 0 } },
  ch: { viseme: 'CH', shape: { open: 0.28, wide: 0, round: 0.45 } },
  jh: { viseme: 'CH', shape: { open: 0.28, wide: 0, round: 0.45 } },
  sh: { viseme: 'CH', shape: { open: 0.25, wide: 0, round: 0.5 } },
  zh: { viseme: 'CH', shape: { open: 0.25, wide: 0, round: 0.5 } },
  s: { viseme: 'SS', shape: { open: 0.15, wide: 0.5, round: 0 } },
  z: { viseme: 'SS', shape: { open: 0.15, wide: 0.5, round: 0 } },
  r: { viseme: 'RR', shape: { open: 0.3, wide: 0, round: 0.35 } },
  er: { viseme: 'RR', shape: { open: 0.35, wide: 0, round: 0.3 } },
  axr: { viseme: 'RR', shape: { open: 0.35, wide: 0, round: 0.3 } },
  aa: { viseme: 'aa', shape: { open: 1, wide: 0.1, round: 0 } },
  ae: { viseme: 'aa', shape: { open: 0.85, wide: 0.35, round: 0 } },
  ah: { viseme: 'aa', shape: { open: 0.7, wide: 0.15, round: 0 } },
  ax: { viseme: 'aa', shape: { open: 0.45, wide: 0.1, round: 0 } },
  ay: { viseme: 'aa', shape: { open: 0.85, wide: 0.25, round: 0 } },
  aw: { viseme: 'aa', shape: { open: 0.8, wide: 0, round: 0.25 } },
  hh: { viseme: 'aa', shape: { open: 0.4, wide: 0.1, round: 0 } },
  hv: { viseme: 'aa', shape: { open: 0.4, wide: 0.1, round: 0 } },
  eh: { viseme: 'E', shape: { open: 0.6, wide: 0.5, round: 0 } },
  ey: { viseme: 'E', shape: { open: 0.55, wide: 0.55, round: 0 } },
  ih: { viseme: 'ih', shape: { open: 0.38, wide: 0.6, round: 0 } },
  iy: { viseme: 'ih', shape: { open: 0.3, wide: 0.75, round: 0 } },
  y: { viseme: 'ih', shape: { open: 0.3, wide: 0.6, round: 0 } },
  ao: { viseme: 'oh', shape: { open: 0.8, wide: 0, round: 0.6 } },
  ow: { viseme: 'oh', shape: { open: 0.65, wide: 0, round: 0.75 } },
  oy: { viseme: 'oh', shape: { open: 0.6, wide: 0, round: 0.6 } },
  uh: { viseme: 'ou', shape: { open: 0.35, wide: 0, round: 0.8 } },
  uw: { viseme: 'ou', shape: { open: 0.3, wide: 0, round: 0.95 } },
  w: { viseme: 'ou', shape: { open: 0.28, wide: 0, round: 0.95 } },
});

/** The shape of each viseme, for tracks that name visemes rather than phones. */
export const VISEME_SHAPES: Readonly<Record<Viseme, MouthShape>> = Object.freeze({
  sil: { open: 0, wide: 0, round: 0 },
  PP: { open: 0, wide: 0, round: 0 },
  FF: { open: 0.12, wide: 0.25, round: 0 },
  TH: { open: 0.2, wide: 0.2, round: 0 },
  DD: { open: 0.25, wide: 0.25, round: 0 },
  kk: { open: 0.3, wide: 0.15, round: 0 },
  CH: { open: 0.28, wide: 0, round: 0.45 },
  SS: { open: 0.15, wide: 0.5, round: 0 },
  nn: { open: 0.22, wide: 0.2, round: 0 },
  RR: { open: 0.32, wide: 0, round: 0.35 },
  aa: { open: 0.85, wide: 0.15, round: 0 },
  E: { open: 0.58, wide: 0.5, round: 0 },
  ih: { open: 0.35, wide: 0.65, round: 0 },
  oh: { open: 0.7, wide: 0, round: 0.7 },
  ou: { open: 0.32, wide: 0, round: 0.9 },
});

/** One phone (or viseme) of a track: what it is and when it ends (seconds from the start of the audio). */
export interface TimedPhone {
  phone: string;
  /** Seconds; the phone starts where the one before it ends (the first at 0). */
  start: number;
  end: number;
}

/** A phone's viseme and target shape: ARPAbet in any case, stress digits ignored (AA1), or a viseme name. */
export function shapeOf(phone: string): { viseme: Viseme; shape: MouthShape } | undefined {
  const bare = phone.trim();
  const arpabet = PHONE_SHAPES[bare.toLowerCase().replace(/[012]$/, '')];
  if (arpabet) return arpabet;
  const viseme = VISEMES.find((v) => v === bare || v.toLowerCase() === bare.toLowerCase());
  return viseme ? { viseme, shape: VISEME_SHAPES[viseme] } : undefined;
}

/** `sil`, `PP` and the like: visemes that close the lips (silence and p/b/m). */
export function closesLips(viseme: Viseme): boolean {
  return viseme === 'sil' || viseme === 'PP';
}

/**
 * flite's `-psdur` output: `pau:0.220 hh:0.295 …`, each phone with its end time. Reading a text
 * file, flite prints one line per utterance (sentence) with times from that utterance's start;
 * its audio is the utterances one after another, so a line whose times start over continues from
 * the end of the line before. flite's diphone voices (kal, kal16) time each utterance about 0.11 s
 * longer than the audio they make, in its closing pause: given the audio's length, whatever the
 * times run over is taken from the utterances' closing phones, in equal parts. Anything else
 * flite printed (warnings) is ignored; no pair at all is an error.
 */
export function parseFlitePhones(output: string, audioSeconds?: number): TimedPhone[] {
  const lines: { phone: string; raw: number }[][] = [];
  for (const line of output.split(/\r?\n/)) {
    const pairs = [...line.matchAll(/(?:^|\s)([a-z#]+):(\d+(?:\.\d+)?)(?=\s|$)/g)].map((m) => ({ phone: m[1]!, raw: Number(m[2]) }));
    if (pairs.length > 0) lines.push(pairs);
  }
  if (lines.length === 0) throw new LiveswapError('internal', `flite printed no phone timings (expected "phone:end" pairs): ${output.slice(0, 200)}`);
  const phones: TimedPhone[] = [];
  let start = 0;
  for (const pairs of lines) {
    const offset = pairs[0]!.raw < start ? start : 0;
    for (const { phone, raw } of pairs) {
      const end = Math.max(start, raw + offset);
      phones.push({ phone, start, end });
      start = end;
    }
  }
  const over = audioSeconds !== undefined ? start - audioSeconds : 0;
  if (over > 0) {
    // Each utterance's last phone gives up its share (never more than it has), and everything after moves up.
    const share = over / lines.length;
    let shift = 0;
    let k = 0;
    for (const pairs of lines) {
      const last = k + pairs.length - 1;
      for (; k <= last; k++) {
        const p = phones[k]!;
        p.start = k > 0 ? phones[k - 1]!.end : 0;
        p.end -= shift;
        if (k === last) {
          const cut = Math.min(share, p.end - p.start);
          p.end -= cut;
          shift += cut;
        }
      }
    }
  }
  return phones;
}

function trackError(file: string, line: number | undefined, what: string): LiveswapError {
  return new LiveswapError('usage', `${file}${line !== undefined ? `, line ${line}` : ''}: ${what}`, { file });
}

function checkedPhone(file: string, line: number | undefined, phone: unknown, end: unknown, previous: number): TimedPhone {
  if (typeof phone !== 'string' || phone.trim() === '') throw trackError(file, line, 'a phone name is missing.');
  if (!shapeOf(phone)) throw trackError(file, line, `"${phone}" is neither an ARPAbet phone (aa, b, ch, …, pau) nor a viseme (${VISEMES.join(', ')}).`);
  const seconds = typeof end === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(end) ? Number(end) : end;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0)
    throw trackError(file, line, `the end time of "${phone}" must be seconds ≥ 0 (got ${JSON.stringify(end)}).`);
  if (seconds < previous)
    throw trackError(file, line, `the end time ${seconds} s of "${phone}" is before the end of the phone before it (${previous} s); the times must not go back.`);
  return { phone: phone.trim(), start: previous, end: seconds };
}

/**
 * A caller's phone track: JSON (`[{"phone": "hh", "end": 0.29}, …]`, `end` in seconds; `{"phones": […]}`
 * also) or text, one `phone end_seconds` per line (flite's `phone:end` too), `#` starting a comment.
 * Phones are ARPAbet (stress digits allowed) or viseme names. `file` names it in the errors.
 */
export function parsePhoneTrack(text: string, file: string): TimedPhone[] {
  const phones: TimedPhone[] = [];
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (cause) {
      throw trackError(file, undefined, `not valid JSON (${(cause as Error).message}).`);
    }
    const items = Array.isArray(parsed) ? parsed : (parsed as { phones?: unknown }).phones;
    if (!Array.isArray(items)) throw trackError(file, undefined, 'the JSON must be a list of {"phone", "end"} items, or {"phones": [...]}.');
    items.forEach((item: unknown, i) => {
      if (typeof item !== 'object' || item === null) throw trackError(file, undefined, `item ${i + 1} is not an object.`);
      const record = item as { phone?: unknown; end?: unknown };
      phones.push(checkedPhone(file, undefined, record.phone, record.end, phones.at(-1)?.end ?? 0));
    });
  } else {
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.replace(/#.*$/, '').trim();
      if (line === '') return;
      const parts = line.split(/[\s:,]+/);
      if (parts.length !== 2) throw trackError(file, i + 1, `expected "phone end_seconds", got "${raw.trim()}".`);
      phones.push(checkedPhone(file, i + 1, parts[0], parts[1], phones.at(-1)?.end ?? 0));
    });
  }
  if (phones.length === 0) throw trackError(file, undefined, 'the track holds no phones.');
  return phones;
}
