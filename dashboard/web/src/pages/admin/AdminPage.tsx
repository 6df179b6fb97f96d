// Placeholder: replaced by the page's implementation.
export default function AdminPage(_props: { params: URLSearchParams }) {
  return <h1>AdminPage</h1>
}
