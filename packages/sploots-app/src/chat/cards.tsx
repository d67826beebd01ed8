/** Tool-call and approval cards of a run (PROTOCOL §9). */
import type { PendingInterrupt, RunStatus, RunToolCall } from '@agent-bridge/browser-client';
import { useInterruptState, useServices } from '../store/context.tsx';

/** Arguments or a result as readable JSON; text that is not (yet) JSON as it is. */
function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function toolStatus(call: RunToolCall, run: RunStatus): { label: string; tone: string } {
  if (call.status === 'done') return { label: 'done', tone: 'ok' };
  if (run === 'cancelled') return { label: 'stopped', tone: 'muted' };
  if (run === 'error') return { label: 'failed', tone: 'bad' };
  if (run === 'interrupted') return { label: 'waiting for approval', tone: 'warn' };
  if (run === 'finished') return { label: 'no result', tone: 'muted' };
  return call.status === 'streaming' ? { label: 'preparing…', tone: 'warn' } : { label: 'running…', tone: 'warn' };
}

export function ToolCard({ call, runStatus }: { call: RunToolCall; runStatus: RunStatus }) {
  const status = toolStatus(call, runStatus);
  return (
    <fieldset className="tool" aria-label={`Tool call ${call.name}`} data-testid="tool-card" data-status={call.status} data-tool={call.name}>
      <div className="tool-head">
        <span className="tool-icon" aria-hidden="true">
          ⚙
        </span>
        <span className="tool-name">{call.name}</span>
        <span className={`tool-status tone-${status.tone}`} data-testid="tool-status">
          {status.label}
        </span>
      </div>
      {call.args !== '' && (
        <div className="tool-section">
          <div className="tool-label">Arguments</div>
          <pre className="tool-pre" data-testid="tool-args">
            {pretty(call.args)}
          </pre>
        </div>
      )}
      {call.result !== undefined && (
        <div className="tool-section">
          <div className="tool-label">Result</div>
          <pre className="tool-pre" data-testid="tool-result">
            {pretty(call.result)}
          </pre>
        </div>
      )}
    </fieldset>
  );
}

export function ApprovalCard({ interrupt }: { interrupt: PendingInterrupt }) {
  const { conversation } = useServices();
  const state = useInterruptState(interrupt);
  const titleId = `approval-${interrupt.id}`;
  return (
    <fieldset className="approval" aria-labelledby={titleId} data-testid="approval-card" data-state={state}>
      <p className="approval-question" id={titleId}>
        <span className="approval-icon" aria-hidden="true">⚠</span>
        {typeof interrupt.message === 'string' && interrupt.message ? interrupt.message : 'The agent asks for your approval.'}
      </p>
      {state === 'pending' ? (
        <div className="approval-actions">
          <button type="button" className="btn btn-approve" onClick={() => conversation.answer(interrupt, true)}>
            Approve
          </button>
          <button type="button" className="btn btn-deny" onClick={() => conversation.answer(interrupt, false)}>
            Deny
          </button>
        </div>
      ) : (
        <p className={`approval-state approval-${state}`} data-testid="approval-state">
          {state === 'approved' ? 'You approved this.' : state === 'denied' ? 'You denied this.' : 'No longer waiting for an answer.'}
        </p>
      )}
    </fieldset>
  );
}
