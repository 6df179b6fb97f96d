// Placeholder: replaced by the page's implementation.
export default function GraphsPage(_props: { params: URLSearchParams }) {
  return <h1>GraphsPage</h1>
}
