// ROT13 as in the talk's `subject_rot13`: the one implementation, protocol/src/event.ts (the server
// uses it for viewers' subjects; the file has no runtime imports, so the browser bundles it as is).
export { rot13 } from '../../../../protocol/src/event.ts'
