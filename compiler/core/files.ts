// Reading a file the user named (a SOURCE, an import, --weights, --input): every
// reader goes through here, so a directory, a device (/dev/zero), a FIFO or a
// file too large to be what it claims is a clear NN error before a byte is read.

import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { type DiagnosticCode, diagnostic, NncError } from "./diagnostics.js";
import type { Span } from "./span.js";

export interface ReadLimits {
  /** What the file is, for messages: "source file", "--weights file". */
  what: string;
  /** The largest file accepted, in bytes. */
  maxBytes: number;
  /** The code a missing file is reported with (default NN6012, like any other unreadable file). */
  missingCode?: DiagnosticCode;
  /** The import or flag that named the file. */
  site?: Span;
}

/** .nn sources: the whole stdlib is ~100 KB; a source beyond 4 MB is not hand-written. */
export const MAX_SOURCE_BYTES = 4 * 1024 * 1024;
/** Weight files (safetensors, npy): Node's largest Buffer (4 GiB). */
export const MAX_WEIGHT_BYTES = 4 * 1024 * 1024 * 1024;
/** JSON inputs are hand-written or small; bulk data belongs in .npy. */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n < 1024 * 1024 ? 2 : 0)} MiB`;

function kindOf(mode: number): string {
  switch (mode & constants.S_IFMT) {
    case constants.S_IFDIR:
      return "a directory";
    case constants.S_IFCHR:
      return "a character device";
    case constants.S_IFBLK:
      return "a block device";
    case constants.S_IFIFO:
      return "a FIFO (named pipe)";
    case constants.S_IFSOCK:
      return "a socket";
    default:
      return "not a regular file";
  }
}

/**
 * The bytes of a regular file no larger than `limits.maxBytes`. The file is opened
 * non-blocking (a FIFO does not hang the open) and checked with fstat on that
 * descriptor, so what was checked is what is read.
 */
export function readRegularFile(path: string, limits: ReadLimits): Buffer {
  const fail = (message: string, code: DiagnosticCode = "NN6012"): never => {
    throw new NncError(diagnostic(code, message, limits.site));
  };
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === "ENOENT"
        ? "no such file"
        : err.code === "EACCES"
          ? "permission denied"
          : (err.code ?? err.message);
    return fail(
      `cannot read ${limits.what} \`${path}\`: ${why}`,
      err.code === "ENOENT" ? limits.missingCode : undefined,
    );
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) fail(`${limits.what} \`${path}\` is ${kindOf(st.mode)}, not a regular file`);
    if (st.size > limits.maxBytes)
      fail(
        `${limits.what} \`${path}\` is ${mib(st.size)}, more than the ${mib(limits.maxBytes)} accepted`,
      );
    const buf = Buffer.allocUnsafe(st.size);
    let at = 0;
    while (at < st.size) {
      const n = readSync(fd, buf, at, st.size - at, at);
      if (n === 0) break;
      at += n;
    }
    return at === st.size ? buf : buf.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}

/** What a path is, without reading it: "file", "missing", or a description of anything else. */
export function pathKind(path: string): "file" | "missing" | string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "unreadable";
  }
  try {
    const st = fstatSync(fd);
    return st.isFile() ? "file" : kindOf(st.mode);
  } finally {
    closeSync(fd);
  }
}

/**
 * Why `bytes` cannot be .nn source text, or undefined: NUL and other control
 * bytes, or bytes that are not UTF-8, mean a binary file (an .onnx, a checkpoint).
 * Answers at once, before a lexer spends minutes on megabytes of garbage.
 */
export function notSourceText(bytes: Uint8Array): string | undefined {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c)
      return `a control byte 0x${b.toString(16).padStart(2, "0")} at byte ${i}`;
  }
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return "bytes that are not UTF-8";
  }
  return undefined;
}
