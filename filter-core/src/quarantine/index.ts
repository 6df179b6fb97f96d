export * from './quarantine.ts'
