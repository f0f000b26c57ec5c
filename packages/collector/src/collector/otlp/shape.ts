/**
 * OTLP/JSON checked by type against the protobuf descriptor (proto.ts), the
 * way a proto3 JSON parser reads it, so a structurally wrong document is a
 * 400 naming the path (`resourceSpans[0].scopeSpans: expected array`) instead
 * of a crash further down. In one walk it also normalises the document to the
 * shape the row mappers read (types.ts):
 * - snake_case field names (which proto3 JSON parsers accept) become lowerCamelCase;
 * - `null` means absent (proto3 JSON), so null fields are removed; a null
 *   element of a repeated field is an error;
 * - enums given by name, 32-bit integers given as strings and doubles given
 *   as strings (`"NaN"`, `"Infinity"`, `"1.5"`) become numbers.
 * Unknown fields are ignored and not descended into. Messages nest at most
 * MAX_MESSAGE_DEPTH deep, the bound protobufjs applies to the binary form.
 * Error messages name fields and indices only, never a value.
 */
import { ID_FIELDS, MAX_MESSAGE_DEPTH, OTLP_DESCRIPTOR } from './proto.js';

type Scalar = 'string' | 'bool' | 'int64' | 'uint64' | 'int32' | 'uint32' | 'double' | 'bytes' | 'id';

interface FieldSpec {
  name: string;
  repeated: boolean;
  scalar?: Scalar;
  enumValues?: Readonly<Record<string, number>>;
  message?: MessageSpec;
  /** The other members of this field's oneof, for the "more than one" check. */
  oneof?: readonly string[];
}

interface MessageSpec {
  /** By JSON name: both the lowerCamelCase and the snake_case spelling. */
  fields: Map<string, FieldSpec>;
}

export class OtlpShapeError extends Error {
  override readonly name = 'OtlpShapeError';
}

const SCALARS: Record<string, Scalar> = {
  string: 'string',
  bool: 'bool',
  int64: 'int64',
  sint64: 'int64',
  sfixed64: 'int64',
  uint64: 'uint64',
  fixed64: 'uint64',
  int32: 'int32',
  sint32: 'int32',
  sfixed32: 'int32',
  uint32: 'uint32',
  fixed32: 'uint32',
  double: 'double',
  float: 'double',
  bytes: 'bytes',
};

type Descriptor = typeof OTLP_DESCRIPTOR.nested;
type TypeDescriptor = { fields?: Record<string, { type: string; id: number; rule?: string }>; oneofs?: Record<string, { oneof: string[] }>; values?: Record<string, number> };

const MESSAGES = buildSpecs(OTLP_DESCRIPTOR.nested);

function buildSpecs(nested: Descriptor): Map<string, MessageSpec> {
  const types = nested as unknown as Record<string, TypeDescriptor>;
  const specs = new Map<string, MessageSpec>();
  for (const [name, t] of Object.entries(types)) if (t.fields) specs.set(name, { fields: new Map() });
  for (const [name, t] of Object.entries(types)) {
    if (!t.fields) continue;
    const spec = specs.get(name)!;
    const oneofOf = new Map<string, string[]>();
    for (const group of Object.values(t.oneofs ?? {})) for (const member of group.oneof) oneofOf.set(member, group.oneof);
    for (const [fieldName, f] of Object.entries(t.fields)) {
      const target = types[f.type];
      const fieldSpec: FieldSpec = {
        name: fieldName,
        repeated: f.rule === 'repeated',
        oneof: oneofOf.get(fieldName),
        ...(target?.values ? { enumValues: target.values } : target?.fields ? { message: specs.get(f.type)! } : { scalar: scalarOf(fieldName, f.type) }),
      };
      spec.fields.set(fieldName, fieldSpec);
      const snake = fieldName.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      if (snake !== fieldName) spec.fields.set(snake, fieldSpec);
    }
  }
  return specs;
}

function scalarOf(fieldName: string, type: string): Scalar {
  const scalar = SCALARS[type];
  if (!scalar) throw new TypeError(`OTLP descriptor: unknown type ${type}`);
  return scalar === 'bytes' && ID_FIELDS.has(fieldName) ? 'id' : scalar;
}

/**
 * Checks `document` as the OTLP/JSON form of `typeName` (e.g.
 * `ExportTraceServiceRequest`) and normalises it in place; throws
 * OtlpShapeError naming the first offending path.
 */
export function checkOtlpJson(document: unknown, typeName: string): void {
  const spec = MESSAGES.get(typeName);
  if (!spec) throw new TypeError(`unknown OTLP message ${typeName}`);
  if (!isObject(document)) throw new OtlpShapeError(`request body must be a JSON ${typeName} object`);
  checkMessage(document, spec, 0, []);
}

type Path = (string | number)[];

function checkMessage(obj: Record<string, unknown>, spec: MessageSpec, depth: number, path: Path): void {
  if (depth > MAX_MESSAGE_DEPTH) fail(path, `nested deeper than ${MAX_MESSAGE_DEPTH} messages`);
  let oneofSet: string | undefined;
  for (const key in obj) {
    const field = spec.fields.get(key);
    if (field === undefined) continue;
    const value = obj[key];
    if (key !== field.name) {
      // snake_case spelling: rename, unless the lowerCamelCase one is there too.
      if (obj[field.name] !== undefined) fail([...path, field.name], `given twice (as ${field.name} and ${key})`);
      obj[field.name] = value;
      delete obj[key];
    }
    if (value === null) {
      delete obj[field.name];
      continue;
    }
    if (field.oneof) {
      if (oneofSet !== undefined && oneofSet !== field.name) fail(path, `more than one of ${oneofSet}, ${field.name}`);
      oneofSet = field.name;
    }
    path.push(field.name);
    if (field.repeated) {
      if (!Array.isArray(value)) fail(path, 'expected array');
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        const normalised = checkValue(value[i], field, depth, path);
        if (normalised !== value[i]) value[i] = normalised;
        path.pop();
      }
    } else {
      const normalised = checkValue(value, field, depth, path);
      if (normalised !== value) obj[field.name] = normalised;
    }
    path.pop();
  }
}

/** Checks one (non-repeated) value of `field`; returns it, or its normalised form. */
function checkValue(value: unknown, field: FieldSpec, depth: number, path: Path): unknown {
  if (field.message) {
    if (!isObject(value)) fail(path, 'expected object');
    checkMessage(value, field.message, depth + 1, path);
    return value;
  }
  if (field.enumValues) return enumValue(value, field.enumValues, path);
  switch (field.scalar) {
    case 'string':
    case 'id':
      if (typeof value !== 'string') fail(path, 'expected string');
      return value;
    case 'bool':
      if (typeof value !== 'boolean') fail(path, 'expected boolean');
      return value;
    case 'int64':
      if (!isInt64(value, false)) fail(path, 'expected a 64-bit integer');
      return value;
    case 'uint64':
      if (!isInt64(value, true)) fail(path, 'expected an unsigned 64-bit integer');
      return value;
    case 'int32':
    case 'uint32': {
      const unsigned = field.scalar === 'uint32';
      const n = typeof value === 'string' && /^-?\d{1,10}$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || n > (unsigned ? 0xffff_ffff : 0x7fff_ffff) || n < (unsigned ? 0 : -0x8000_0000)) {
        fail(path, unsigned ? 'expected an unsigned 32-bit integer' : 'expected a 32-bit integer');
      }
      return n;
    }
    case 'double':
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && (DOUBLE_STRING.test(value) || value === 'NaN' || value === 'Infinity' || value === '-Infinity')) return Number(value);
      return fail(path, 'expected a number');
    case 'bytes':
      if (typeof value !== 'string' || !isBase64(value)) fail(path, 'expected base64');
      return value;
    default:
      throw new TypeError(`OTLP descriptor: field ${field.name} has no type`);
  }
}

function enumValue(value: unknown, values: Readonly<Record<string, number>>, path: Path): number {
  // proto3 enums are open: any int32 is a value; a name must be one of the enum's.
  if (typeof value === 'number' && Number.isInteger(value) && value >= -0x8000_0000 && value <= 0x7fff_ffff) return value;
  if (typeof value === 'string' && Object.hasOwn(values, value)) return values[value]!;
  return fail(path, 'unknown enum value');
}

const DOUBLE_STRING = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INT64_MAX = 9_223_372_036_854_775_807n;
const UINT64_MAX = 18_446_744_073_709_551_615n;

/** A JSON number that is an integer, or a decimal string, within (u)int64 range. */
function isInt64(value: unknown, unsigned: boolean): boolean {
  if (typeof value === 'number') {
    return Number.isInteger(value) && (unsigned ? value >= 0 && value < 2 ** 64 : value >= -(2 ** 63) && value < 2 ** 63);
  }
  if (typeof value !== 'string' || !(unsigned ? /^\d{1,20}$/ : /^-?\d{1,19}$/).test(value)) return false;
  if (value.length < 19) return true;
  const n = BigInt(value);
  return unsigned ? n <= UINT64_MAX : n <= INT64_MAX && n >= -INT64_MAX - 1n;
}

/** Standard or URL-safe base64, padded or not (what proto3 JSON parsers accept for bytes). */
function isBase64(value: string): boolean {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) return false;
  const unpadded = value.replace(/=+$/, '');
  return unpadded.length % 4 !== 1 && (value.length === unpadded.length || value.length % 4 === 0);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(path: Path, problem: string): never {
  throw new OtlpShapeError(`${formatPath(path)}: ${problem}`);
}

function formatPath(path: Path): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out === '' ? 'request body' : out;
}
