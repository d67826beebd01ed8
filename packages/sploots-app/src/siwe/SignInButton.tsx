// Placeholder so the SPA build can import it; the real component replaces this.
import { useState } from 'react';

export interface SignInButtonProps {
  client: unknown;
}

export function SignInButton(_props: SignInButtonProps) {
  const [note] = useState('Sign in with Ethereum (coming soon)');
  return <span className="siwe-placeholder">{note}</span>;
}

export default SignInButton;
