// NumPy .npz archives (np.savez, np.savez_compressed): a zip of .npy files.
// Node has no zip reader, so this is a small strict one: the central directory
// (zip64 sizes included, as numpy writes them), stored or deflated entries, and
// each entry's CRC-32 checked. Anything else (encryption, other methods,
// multi-disk archives) is refused with NN8104.

import { crc32, inflateRawSync } from "node:zlib";
import { MAX_WEIGHT_BYTES, readRegularFile } from "../../compiler/core/files.js";
import { decodeNpy } from "../weights/npy.js";
import { badData, type DataArray } from "./array.js";

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const U32_MAX = 0xffffffff;

interface Entry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressed: number;
  size: number;
  local: number;
}

function centralDirectory(bytes: Uint8Array, file: string): Entry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end record is 22 bytes plus a comment of up to 65535: search back for it.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) badData(file, "not a zip archive (no end-of-central-directory record): truncated?");
  if (view.getUint16(eocd + 4, true) !== 0 || view.getUint16(eocd + 6, true) !== 0)
    badData(file, "multi-disk zip archives are not supported");
  let count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  if (count === 0xffff || at === U32_MAX) {
    // zip64: the locator sits right before the end record and points at the zip64 end record.
    const loc = eocd - 20;
    if (loc < 0 || view.getUint32(loc, true) !== 0x07064b50)
      badData(file, "zip64 archive without its end-of-central-directory locator");
    const rec = Number(view.getBigUint64(loc + 8, true));
    if (rec + 56 > bytes.length || view.getUint32(rec, true) !== 0x06064b50)
      badData(file, "zip64 end-of-central-directory record missing");
    count = Number(view.getBigUint64(rec + 32, true));
    at = Number(view.getBigUint64(rec + 48, true));
  }
  const entries: Entry[] = [];
  for (let k = 0; k < count; k++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== CENTRAL)
      badData(file, `central directory entry ${k} is corrupt`);
    const nameLen = view.getUint16(at + 28, true);
    const extraLen = view.getUint16(at + 30, true);
    const commentLen = view.getUint16(at + 32, true);
    const e: Entry = {
      flags: view.getUint16(at + 8, true),
      method: view.getUint16(at + 10, true),
      crc: view.getUint32(at + 16, true),
      compressed: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      local: view.getUint32(at + 42, true),
      name: new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLen)),
    };
    // The zip64 extra field (id 1) holds, in order, whichever of these were 0xffffffff.
    let x = at + 46 + nameLen;
    const end = x + extraLen;
    while (x + 4 <= end) {
      const id = view.getUint16(x, true);
      const len = view.getUint16(x + 2, true);
      if (id === 1) {
        let p = x + 4;
        const take = () => {
          const v = Number(view.getBigUint64(p, true));
          p += 8;
          return v;
        };
        if (e.size === U32_MAX) e.size = take();
        if (e.compressed === U32_MAX) e.compressed = take();
        if (e.local === U32_MAX) e.local = take();
      }
      x += 4 + len;
    }
    entries.push(e);
    at = end + commentLen;
  }
  return entries;
}

function entryBytes(bytes: Uint8Array, e: Entry, file: string): Uint8Array {
  const where = `${file}: entry \`${e.name}\``;
  if (e.flags & 1) badData(where, "is encrypted");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (e.local + 30 > bytes.length || view.getUint32(e.local, true) !== LOCAL)
    badData(where, "has no local header where the directory says (a corrupt archive)");
  const start =
    e.local + 30 + view.getUint16(e.local + 26, true) + view.getUint16(e.local + 28, true);
  if (start + e.compressed > bytes.length) badData(where, "is truncated");
  const packed = bytes.subarray(start, start + e.compressed);
  let out: Uint8Array;
  if (e.method === 0) out = packed;
  else if (e.method === 8) {
    try {
      out = inflateRawSync(packed);
    } catch (err) {
      return badData(where, `does not inflate (${(err as Error).message})`);
    }
  } else
    return badData(
      where,
      `uses compression method ${e.method}; only stored (0) and deflate (8) are read`,
    );
  if (out.length !== e.size) badData(where, `is ${out.length} bytes, the directory says ${e.size}`);
  if (crc32(out) >>> 0 !== e.crc >>> 0)
    badData(where, "fails its CRC-32 check (a corrupt archive)");
  return out;
}

/** Every array of an .npz, by name without `.npy`. u8 arrays (`|u1`) keep their kind. */
export function decodeNpz(bytes: Uint8Array, file: string): Map<string, DataArray> {
  const out = new Map<string, DataArray>();
  for (const e of centralDirectory(bytes, file)) {
    if (e.name.endsWith("/")) continue;
    if (!e.name.endsWith(".npy")) badData(file, `entry \`${e.name}\` is not a .npy array`);
    const name = e.name.slice(0, -4);
    const raw = entryBytes(bytes, e, file);
    const t = decodeNpy(raw, `${file}:${e.name}`);
    // decodeNpy widens u8 to i32; the header says whether the bytes were u8 (images to scale).
    const head = new TextDecoder().decode(raw.subarray(0, Math.min(raw.length, 256)));
    const u8 = /'descr':\s*'\|u1'/.test(head);
    out.set(name, {
      shape: t.shape,
      data: t.data as DataArray["data"],
      kind: u8 ? "u8" : t.dtype === "f32" ? "float" : "int",
    });
  }
  if (out.size === 0) badData(file, "the archive holds no arrays");
  return out;
}

export function readNpz(path: string): Map<string, DataArray> {
  return decodeNpz(readRegularFile(path, { what: ".npz file", maxBytes: MAX_WEIGHT_BYTES }), path);
}
