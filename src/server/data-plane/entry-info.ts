// Converts the supervisor's ENTRY fields into envd's EntryInfo JSON.
import type { Fields } from '../../supervisor/frame-codec.js';
import { EntryType, FieldTag } from '../../supervisor/protocol.js';

const FILE_TYPE_NAMES: Record<number, string> = {
  [EntryType.file]: 'FILE_TYPE_FILE',
  [EntryType.directory]: 'FILE_TYPE_DIRECTORY',
  [EntryType.symlink]: 'FILE_TYPE_SYMLINK',
  [EntryType.other]: 'FILE_TYPE_UNSPECIFIED',
};

const TYPE_LETTER: Record<number, string> = { [EntryType.file]: '-', [EntryType.directory]: 'd', [EntryType.symlink]: 'L', [EntryType.other]: '?' };

/** `rwxr-xr-x`-style permission string, prefixed with the type letter like Go's FileMode.String(). */
export function permissionString(type: number, mode: number): string {
  const bits = 'rwxrwxrwx';
  let out = TYPE_LETTER[type] ?? '?';
  for (let index = 0; index < 9; index += 1) out += mode & (1 << (8 - index)) ? bits[index] : '-';
  return out;
}

export function entryInfoJson(entry: Fields): Record<string, unknown> {
  const type = entry.int(FieldTag.type) ?? EntryType.other;
  const mode = entry.int(FieldTag.mode) ?? 0;
  const mtimeNs = entry.int(FieldTag.mtimeNs) ?? 0;
  const symlinkTarget = entry.string(FieldTag.symlinkTarget);
  return {
    name: entry.string(FieldTag.name) ?? '',
    type: FILE_TYPE_NAMES[type] ?? 'FILE_TYPE_UNSPECIFIED',
    path: entry.string(FieldTag.path) ?? '',
    size: String(entry.int(FieldTag.size) ?? 0),
    mode: mode & 0o777,
    permissions: permissionString(type, mode),
    owner: entry.string(FieldTag.owner) ?? '',
    group: entry.string(FieldTag.group) ?? '',
    modifiedTime: new Date(Math.floor(mtimeNs / 1e6)).toISOString(),
    ...(symlinkTarget !== undefined ? { symlinkTarget } : {}),
  };
}

/** The simple `{name, type, path}` shape the `/files` upload endpoint answers with. */
export function uploadedEntryJson(entry: Fields): Record<string, unknown> {
  const type = entry.int(FieldTag.type) ?? EntryType.file;
  return {
    name: entry.string(FieldTag.name) ?? '',
    type: type === EntryType.directory ? 'dir' : 'file',
    path: entry.string(FieldTag.path) ?? '',
  };
}
