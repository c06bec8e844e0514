// Sign in with a local account (session cookie), or change a one-time password first.
import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';

export function SignInPage({ onSignedIn, changePassword }: { onSignedIn: (user: string, mustChangePassword?: boolean) => void; changePassword?: boolean }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [next, setNext] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (changePassword) {
        await api.changePassword(password, next);
        onSignedIn('');
        return;
      }
      const me = await api.signIn(email.trim(), password);
      onSignedIn(me.user.email, me.mustChangePassword);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="signin">
      <form className="card signin-card" onSubmit={submit}>
        <div className="brand big">
          <span className="brand-mark">T</span> Tenantflow
        </div>
        {changePassword ? (
          <p className="muted">Choose your own password to replace the one-time password (at least 12 characters).</p>
        ) : (
          <p className="muted">Runbook automation for Microsoft 365. Sign in to design, run and approve.</p>
        )}
        {!changePassword && (
          <label className="field">
            <span className="field-label">Email</span>
            <input type="email" name="email" required autoFocus value={email} onChange={(e) => setEmail(e.target.value)} placeholder="you@contoso.com" autoComplete="username" />
          </label>
        )}
        <label className="field">
          <span className="field-label">{changePassword ? 'Current password' : 'Password'}</span>
          <input type="password" name="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" />
          {!changePassword && <span className="help">The first admin's one-time password is printed by <code>npm start</code>.</span>}
        </label>
        {changePassword && (
          <label className="field">
            <span className="field-label">New password</span>
            <input type="password" name="new-password" minLength={12} value={next} onChange={(e) => setNext(e.target.value)} autoComplete="new-password" />
          </label>
        )}
        {error && (
          <div className="banner banner-error" role="alert">
            {error}
          </div>
        )}
        <button className="btn btn-primary" disabled={busy || (!changePassword && !email)}>
          {busy ? 'Please wait…' : changePassword ? 'Change password' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
