// Placeholder: replaced by the page's implementation.
export default function LivePage(_props: { params: URLSearchParams }) {
  return <h1>LivePage</h1>
}
