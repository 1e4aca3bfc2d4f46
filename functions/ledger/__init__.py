"""The journal for the accountants: the journal, the trial balance and the nightly export."""
