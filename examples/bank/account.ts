import { Actor } from '../../actors/index.js';

function checkAmount(amount: unknown): number {
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) {
    throw new Error(`INVALID_AMOUNT: amount must be a positive integer, got ${JSON.stringify(amount)}`);
  }
  return amount;
}

/** A bank account per key. Balances are integers (cents): money is never a float. */
export class Account extends Actor<{ balance: number; closed?: boolean }> {
  static override expose = ['deposit', 'withdraw', 'balance', 'close', 'refund'] as const;
  state: { balance: number; closed?: boolean } = { balance: 0 };

  deposit(amount: number): number {
    const a = checkAmount(amount);
    if (this.state.closed === true) throw new Error('ACCOUNT_CLOSED: this account takes no deposits');
    this.state.balance += a;
    return this.state.balance;
  }

  /** Gives back money taken from this account (a saga's compensation): never refused, even when closed. */
  refund(amount: number): number {
    this.state.balance += checkAmount(amount);
    return this.state.balance;
  }

  /** Closes the account to deposits (withdrawals still work, so it can be emptied). */
  close(): boolean {
    this.state.closed = true;
    return true;
  }

  withdraw(amount: number): number {
    const a = checkAmount(amount);
    if (a > this.state.balance) throw new Error(`INSUFFICIENT_FUNDS: balance ${this.state.balance} is less than ${a}`);
    this.state.balance -= a;
    return this.state.balance;
  }

  balance(): number {
    return this.state.balance;
  }
}
