import { arrayLiteral } from './row-source';

describe('arrayLiteral', () => {
  it.each([
    [['a', 'b'], 'text', '{"a","b"}'],
    [['say "hi"', 'back\\slash', 'comma, {brace}', ' space ', ''], 'text', '{"say \\"hi\\"","back\\\\slash","comma, {brace}"," space ",""}'],
    [[null, 'NULL', undefined], 'text', '{NULL,"NULL",NULL}'],
    [['{"rule":"BASE","detail":"a \\"b\\""}'], 'jsonb', '{"{\\"rule\\":\\"BASE\\",\\"detail\\":\\"a \\\\\\"b\\\\\\"\\"}"}'],
    [[1, -2, null], 'int', '{1,-2,NULL}'],
    [['0190c1e2-0000-7000-8000-000000000001', null], 'uuid', '{0190c1e2-0000-7000-8000-000000000001,NULL}'],
    [[true, false], 'boolean', '{true,false}'],
    [[], 'uuid', '{}'],
  ])('%j as %s is %s', (values, type, literal) => {
    expect(arrayLiteral(values, type)).toBe(literal);
  });
});
