// Placeholder: replaced by the page's implementation.
export default function PanelsPage(_props: { params: URLSearchParams }) {
  return <h1>PanelsPage</h1>
}
