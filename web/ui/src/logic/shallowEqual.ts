// File: logic/shallowEqual.ts
//
// Whether two props objects have the same keys with the same values
// (Object.is), for components that render again only when a prop changed
// (React.memo's rule, without preact/compat).

export function shallowEqual(a: object, b: object): boolean {
  if (a === b) return true;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  return keys.every((k) => Object.prototype.hasOwnProperty.call(y, k) && Object.is(x[k], y[k]));
}
