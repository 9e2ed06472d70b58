import { Actor, forgetSaga, runSaga, type SagaStep } from '../../actors/index.js';
import { Account } from './account.js';

export interface TransferInput {
  readonly from: string;
  readonly to: string;
  readonly amount: number;
}

export interface TransferStatus {
  readonly state: 'running' | 'completed' | 'failed';
  readonly from: string;
  readonly to: string;
  readonly amount: number;
}

type TransferState = { state: 'new' } | TransferStatus;

/**
 * A money transfer between two accounts, keyed by the transfer id, run as a
 * saga: withdraw from `from` (undo: deposit it back), then deposit to `to`.
 * Each step carries a key derived from the transfer id, so however often the
 * transfer is started or resumed, money moves at most once; a failed transfer
 * is fully compensated. Money is never created or destroyed.
 */
export class Transfer extends Actor<TransferState> {
  static override expose = ['start', 'status'] as const;
  state: TransferState = { state: 'new' };

  /** Runs the transfer (or reports how it ended): "completed" or "failed". */
  async start(input: TransferInput): Promise<'completed' | 'failed'> {
    const s = this.state;
    if (s.state === 'completed' || s.state === 'failed') {
      await forgetSaga(this.grid, this.sagaId());
      return s.state;
    }
    const checked = checkInput(input);
    if (s.state === 'running' && (s.from !== checked.from || s.to !== checked.to || s.amount !== checked.amount)) {
      throw new Error('TRANSFER_MISMATCH: this transfer id was started with other accounts or amount');
    }
    this.state = { state: 'running', ...checked };
    const outcome = await runSaga({
      id: this.sagaId(),
      input: checked,
      steps: this.steps(),
      grid: this.grid,
      resume: { type: 'Transfer', key: this.key, method: 'start' },
    });
    this.state = { state: outcome, ...checked };
    // Once this turn has committed the outcome, the journal entry can go.
    this.tell(Transfer, this.key).status();
    return outcome;
  }

  /** `{state, from, to, amount}`; state is "running" until the transfer ends. */
  async status(): Promise<TransferStatus | { state: 'unknown' }> {
    const s = this.state;
    if (s.state === 'new') return { state: 'unknown' };
    if (s.state !== 'running') await forgetSaga(this.grid, this.sagaId());
    return s;
  }

  private sagaId(): string {
    return `transfer:${this.key}`;
  }

  private steps(): SagaStep<TransferInput>[] {
    return [
      {
        name: 'withdraw',
        run: (t, idem) => this.ref(Account, t.from, { idem }).withdraw(t.amount),
        // A refund, not a deposit: a compensation must not be refusable (a closed account takes no deposits).
        compensate: (t, idem) => this.ref(Account, t.from, { idem }).refund(t.amount),
      },
      {
        name: 'deposit',
        run: (t, idem) => this.ref(Account, t.to, { idem }).deposit(t.amount),
      },
    ];
  }
}

function checkInput(input: TransferInput): TransferInput {
  if (input === null || typeof input !== 'object') throw new Error('INVALID_TRANSFER: start({from, to, amount})');
  const { from, to, amount } = input;
  if (typeof from !== 'string' || from === '' || typeof to !== 'string' || to === '') throw new Error('INVALID_TRANSFER: from and to must be account keys');
  if (from === to) throw new Error('INVALID_TRANSFER: from and to must differ');
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) throw new Error('INVALID_AMOUNT: amount must be a positive integer');
  return { from, to, amount };
}
