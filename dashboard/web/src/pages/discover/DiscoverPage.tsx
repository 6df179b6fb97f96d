// Placeholder: replaced by the page's implementation.
export default function DiscoverPage(_props: { params: URLSearchParams }) {
  return <h1>DiscoverPage</h1>
}
