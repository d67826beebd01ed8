import { Link } from '../router.tsx';

export function NotFound({ path }: { path: string }) {
  return (
    <main className="layout-single notfound" data-testid="not-found">
      <div className="notfound-card">
        <h1>Not found</h1>
        <p>
          There is nothing at <code>{path}</code>.
        </p>
        <p>
          <Link href="/">Back to Sploots</Link>
        </p>
      </div>
    </main>
  );
}
