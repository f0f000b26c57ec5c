/**
 * Attribute values are stored as pdata's Value.AsString formats them: a
 * differential test of the collector's implementation against an oracle
 * written from the Go source (support/pdata-asstring.ts), on the cases of
 * pdata's own TestValueAsString, the cases issue 12 lists (doubles >= 1e21
 * or < 1e-6, integers above 2^53 inside arrays and maps, kvlist key order)
 * and seeded random values.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { anyValueToString, attributePairs } from '../packages/collector/src/collector/otlp/any-value.js';
import type { AnyValue } from '../packages/collector/src/collector/otlp/types.js';
import { pdataAsString } from './support/pdata-asstring.js';
import { rng } from './support/reliability-fuzz.js';

const str = (stringValue: string): AnyValue => ({ stringValue });
const int = (intValue: string | number): AnyValue => ({ intValue });
const dbl = (doubleValue: number): AnyValue => ({ doubleValue });
const arr = (...values: AnyValue[]): AnyValue => ({ arrayValue: { values } });
const kvlist = (...pairs: [string, AnyValue | undefined][]): AnyValue => ({ kvlistValue: { values: pairs.map(([key, value]) => ({ key, value })) } });

/** pdata's TestValueAsString cases (pcommon/value_test.go), with their expected strings. */
const PDATA_CASES: [string, AnyValue | undefined, string][] = [
  ['string', str('string value'), 'string value'],
  ['int64', int(42), '42'],
  ['float64', dbl(1.61803399), '1.61803399'],
  ['small float64', dbl(0.000000009), '9e-9'],
  ['float64_positive_infinity', dbl(Infinity), 'Infinity'],
  ['float64_negative_infinity', dbl(-Infinity), '-Infinity'],
  ['float64_nan', dbl(NaN), 'NaN'],
  ['boolean', { boolValue: true }, 'true'],
  ['empty_map', kvlist(), '{}'],
  [
    'simple_map',
    kvlist(['arrKey', arr(str('strOne'), str('strTwo'))], ['boolKey', { boolValue: false }], ['floatKey', dbl(18.6)], ['intKey', int(7)], ['mapKey', kvlist(['keyOne', str('valOne')], ['keyTwo', str('valTwo')])], ['nullKey', {}], ['strKey', str('strVal')]),
    '{"arrKey":["strOne","strTwo"],"boolKey":false,"floatKey":18.6,"intKey":7,"mapKey":{"keyOne":"valOne","keyTwo":"valTwo"},"nullKey":null,"strKey":"strVal"}',
  ],
  ['empty_array', arr(), '[]'],
  ['simple_array', arr(str('strVal'), int(7), dbl(18.6), { boolValue: false }, {}), '["strVal",7,18.6,false,null]'],
  ['empty', {}, ''],
  ['bytes', { bytesValue: Buffer.from('String bytes') }, Buffer.from('String bytes').toString('base64')],
  ['map_with_html_characters', kvlist(['key', str('<a href="x">&y</a>')]), '{"key":"<a href=\\"x\\">&y</a>"}'],
  ['slice_with_html_characters', arr(str('<'), str('>'), str('&')), '["<",">","&"]'],
];

/** What issue 12 found stored differently, and the neighbours of each boundary. */
const ISSUE_CASES: [string, AnyValue, string][] = [
  ['a double of 1e21', dbl(1e21), '1e+21'],
  ['a double just below 1e21', dbl(999999999999999900000), '999999999999999900000'],
  ['a double of 1.5e300', dbl(1.5e300), '1.5e+300'],
  ['a double of 1e-6', dbl(0.000001), '0.000001'],
  ['a double below 1e-6', dbl(1.5e-7), '1.5e-7'],
  ['the smallest double', dbl(5e-324), '5e-324'],
  ['negative zero', dbl(-0), '-0'],
  ['an integral double', dbl(100), '100'],
  ['an int above 2^53 in an array', arr(int('9007199254740993'), int('-9223372036854775808')), '[9007199254740993,-9223372036854775808]'],
  ['an int above 2^53 in a map', kvlist(['n', int('9223372036854775807')]), '{"n":9223372036854775807}'],
  ['kvlist keys sorted as bytes, integer-like ones included', kvlist(['b', int(1)], ['10', int(2)], ['9', int(3)], ['a', int(4)]), '{"10":2,"9":3,"a":4,"b":1}'],
  ['the last of duplicate kvlist keys wins', kvlist(['k', int(1)], ['k', int(2)]), '{"k":2}'],
  ['doubles inside an array', arr(dbl(1e21), dbl(1e-7), dbl(-0), dbl(0.1 + 0.2)), '[1e+21,1e-7,-0,0.30000000000000004]'],
  ['NaN inside an array makes the value empty', arr(str('a'), dbl(NaN)), ''],
  ['Infinity inside a map makes the value empty', kvlist(['x', dbl(Infinity)]), ''],
  ['base64 bytes inside an array, normalised', arr({ bytesValue: 'AAE' }, { bytesValue: '-_8=' }), '["AAE=","+/8="]'],
  ['base64 bytes given unpadded', { bytesValue: 'AAE' }, 'AAE='],
  ['U+2028 and U+2029 escaped inside JSON', arr(str('a\u2028b\u2029')), '["a\\u2028b\\u2029"]'],
  ['control characters inside JSON', arr(str('\u0000\u0001\b\f\n\r\t\u001f\u007f')), '["\\u0000\\u0001\\b\\f\\n\\r\\t\\u001f\u007f"]'],
  ['a lone surrogate inside JSON reads as U+FFFD', arr(str('x\ud800y')), '["x\ufffdy"]'],
  ['astral and high BMP keys in byte order', kvlist(['\u{1F600}', int(1)], ['\ue000', int(2)], ['z', int(3)]), '{"z":3,"\ue000":2,"\u{1F600}":1}'],
  ['an int given with leading zeros', int('007'), '7'],
  ['an empty value inside a map', kvlist(['e', undefined]), '{"e":null}'],
];

describe('AsString: the exporter formatting rules', () => {
  for (const [name, value, expected] of [...PDATA_CASES, ...ISSUE_CASES]) {
    test(name, () => {
      assert.equal(pdataAsString(value), expected, 'oracle');
      assert.equal(anyValueToString(value), expected, 'collector');
    });
  }
});

test('AsString agrees with the oracle on 20,000 seeded random values', () => {
  const random = rng(0xa5a5);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const CHARS = ['a', 'b', 'Z', '0', '9', '10', '<', '>', '&', '"', '\\', '/', '\n', '\b', '\u0001', '\u001f', '\u007f', 'é', '\u2028', '\u2029', '\ud800', '\udc00', '\u{1F600}', '\ue000', '\uffff', ' ', '.'];
  const DOUBLES = [0, -0, 1, -1, 1e21, 1e20, 9.999999999999999e20, 1e-6, 9.99e-7, 1e-7, 5e-324, 1.7976931348623157e308, 0.1, 18.6, 1.61803399, 123456789.125, -2.5e-300, NaN, Infinity, -Infinity];
  const INTS = ['0', '-1', '42', '9007199254740992', '9007199254740993', '9223372036854775807', '-9223372036854775808', '0012'];
  const text = () => Array.from({ length: Math.floor(random() * 6) }, () => pick(CHARS)).join('');
  const value = (depth: number): AnyValue => {
    const kind = Math.floor(random() * (depth < 3 ? 9 : 7));
    switch (kind) {
      case 0:
        return str(text());
      case 1:
        return { boolValue: random() < 0.5 };
      case 2:
        return random() < 0.5 ? int(pick(INTS)) : int(Math.floor((random() - 0.5) * 2 ** 40));
      case 3:
        return dbl(random() < 0.5 ? pick(DOUBLES) : (random() - 0.5) * 10 ** Math.floor(random() * 50 - 25));
      case 4:
        return { bytesValue: random() < 0.5 ? Buffer.from(text()) : Buffer.from(text()).toString('base64url') };
      case 5:
        return {};
      case 6:
        return str(String(random()));
      case 7:
        return arr(...Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1)));
      default:
        return kvlist(...Array.from({ length: Math.floor(random() * 5) }, (): [string, AnyValue] => [text(), value(depth + 1)]));
    }
  };
  let structured = 0;
  for (let i = 0; i < 20_000; i++) {
    const v = value(0);
    if (v.arrayValue || v.kvlistValue) structured++;
    assert.equal(anyValueToString(v), pdataAsString(v), `case ${i}: ${JSON.stringify(v)}`);
  }
  assert.ok(structured > 3000, `${structured} arrays and maps compared`);
});

test('an attribute map is stored with its keys in byte order, duplicates kept', () => {
  const attributes = [
    { key: 'b', value: str('1') },
    { key: '10', value: str('2') },
    { key: '9', value: str('3') },
    { key: '\u{1F600}', value: str('4') },
    { key: '\ue000', value: str('5') },
    { key: 'b', value: str('6') },
  ];
  assert.deepEqual(attributePairs(attributes).map(([k]) => k), ['10', '9', 'b', 'b', '\ue000', '\u{1F600}']);
  assert.deepEqual(attributePairs(attributes).filter(([k]) => k === 'b').map(([, v]) => v), ['1', '6']);
});
