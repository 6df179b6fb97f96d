// Subjects are shown in rot13 by default, as in the talk's `subject_rot13` column. A user whose
// role may see raw subjects (Me.raw_subjects) gets them from the server as they are and can reveal
// them per row; for everyone else the server has already replaced them by their rot13 (it never
// sends the raw text), so they are shown as received and there is nothing to reveal.
import { rot13 } from './rot13.ts'

export function displaySubject(fromServer: string, rawSubjects: boolean, revealed: boolean): string {
  if (!rawSubjects) return fromServer
  return revealed ? fromServer : rot13(fromServer)
}
