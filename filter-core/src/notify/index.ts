export * from './dsn.ts'
export { rfc5322Date, encodeHeaderText } from './message.ts'
