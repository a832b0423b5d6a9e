/**
 * The mesh engine's settings that decide how much of the source person is carried over, beyond
 * the per-swap user settings: which parts take the source's geometry, how strongly, and how much
 * of the source's complexion is kept. The defaults are what the engine ships with; `eval --ablate`
 * switches them one at a time so every choice is made from measurements.
 */

/** Face regions whose geometry can come from the source. */
export interface ShapeRegions {
  /** Eye corners, eye length and tilt, lid curve (the target's aperture is kept). */
  eyes: boolean;
  /** Brow position, arch and length. */
  brows: boolean;
  /** Nose width, length and tip. */
  nose: boolean;
  /** Mouth width and lip thickness (the target's opening and corner lift are kept). */
  mouth: boolean;
  /** Cheeks, jaw line and chin inside the face outline. */
  jaw: boolean;
}

export interface MeshTuning {
  /** Identity shape transfer strength, 0 (the target's shape) to 1 (the source's). */
  shape: number;
  regions: ShapeRegions;
  /**
   * How far the face's outline below the eyes (cheeks, jaw, chin) takes the source's, 0 to 1;
   * the frame around the face is warped with it, so hair and collars near the jaw bend.
   */
  outline: number;
  /** Cut the eye openings out of the painted face so the target's own eyes show. */
  eyeHoles: boolean;
  /** Keep the target's own lips (colour, lipstick) instead of painting the source's. */
  targetLips: boolean;
  /** Share of the brow-to-hairline height that is painted. */
  foreheadKept: number;
  /**
   * How much of the source's complexion survives the colour match: 0 imposes the target skin's
   * colour (lighting and tone), 1 keeps the source's mean tone under the target's shading.
   */
  complexion: number;
  /**
   * The blur, in face sizes, above which the painted face takes the target's lighting: finer
   * shading than this stays the source's. The target's finer shading is its face's relief, which
   * is its identity (measured: 0.2 keeps more of the source than 0.1 with both recognisers).
   */
  lightingScale: number;
  /** Above the brows and at the temples, leave out source texels far from its skin colour (hair, hat). */
  hideHair: boolean;
  /**
   * On the lips, leave out source texels far from the lips' colour (the source's teeth or mouth),
   * and give the source's teeth and open mouth the lips' colour around at low confidence.
   */
  hideTeeth: boolean;
  /** Give the target's irises the source's iris colour (the target keeps its gaze and blinks). */
  iris: boolean;
  /** Match the painted face's fine detail and grain to the target's sharpness. */
  detail: boolean;
  /**
   * How far a smiling source's nasolabial folds, crow's feet and raised cheeks (its expression,
   * not its identity) are softened on targets that do not smile, 0 (kept) to 1.
   */
  softenSmile: number;
}

export const DEFAULT_MESH_TUNING: MeshTuning = Object.freeze({
  shape: 1,
  regions: Object.freeze({ eyes: true, brows: true, nose: true, mouth: true, jaw: true }),
  outline: 0,
  eyeHoles: true,
  targetLips: false,
  foreheadKept: 0.45,
  complexion: 0.35,
  lightingScale: 0.2,
  hideHair: true,
  hideTeeth: true,
  iris: true,
  detail: true,
  softenSmile: 0.6,
});

/** The defaults with some settings replaced (regions merged, not replaced). */
export function meshTuning(overrides: Partial<Omit<MeshTuning, 'regions'>> & { regions?: Partial<ShapeRegions> } = {}): MeshTuning {
  return { ...DEFAULT_MESH_TUNING, ...overrides, regions: { ...DEFAULT_MESH_TUNING.regions, ...overrides.regions } };
}

export interface MeshAblation {
  /** Short name for tables: what is changed from the defaults. */
  name: string;
  tuning: MeshTuning;
}

/**
 * One change from the defaults at a time: each region's shape off, shape transfer off altogether
 * (the old engine's geometry), colour at either end, eye holes, forehead and detail.
 */
export function meshAblations(): MeshAblation[] {
  const regionOff = (name: keyof ShapeRegions): MeshAblation => ({ name: `no ${name} shape`, tuning: meshTuning({ regions: { [name]: false } }) });
  return [
    { name: 'defaults', tuning: meshTuning() },
    {
      name: 'previous engine (all of these off)',
      tuning: meshTuning({ shape: 0, complexion: 0, lightingScale: 0.1, softenSmile: 0, hideHair: false, hideTeeth: false, iris: false, detail: false }),
    },
    { name: 'no shape transfer', tuning: meshTuning({ shape: 0 }) },
    { name: 'shape 0.5', tuning: meshTuning({ shape: 0.5 }) },
    regionOff('eyes'),
    regionOff('brows'),
    regionOff('nose'),
    regionOff('mouth'),
    regionOff('jaw'),
    { name: 'outline 1 (frame warped)', tuning: meshTuning({ outline: 1 }) },
    { name: 'complexion 0 (target colour)', tuning: meshTuning({ complexion: 0 }) },
    { name: 'complexion 1 (source colour)', tuning: meshTuning({ complexion: 1 }) },
    { name: 'lighting scale 0.1', tuning: meshTuning({ lightingScale: 0.1 }) },
    { name: 'no eye holes', tuning: meshTuning({ eyeHoles: false }) },
    { name: "target's lips kept", tuning: meshTuning({ targetLips: true }) },
    { name: 'forehead 0.9', tuning: meshTuning({ foreheadKept: 0.9 }) },
    { name: 'no iris colour', tuning: meshTuning({ iris: false }) },
    { name: 'hair kept on the forehead', tuning: meshTuning({ hideHair: false }) },
    { name: 'teeth kept on the lips', tuning: meshTuning({ hideTeeth: false }) },
    { name: 'no detail match', tuning: meshTuning({ detail: false }) },
    { name: 'smile lines kept', tuning: meshTuning({ softenSmile: 0 }) },
  ];
}
