//! What a server connection still owes: one entry per client message that
//! gets a reply, in order, so the pool can hide the replies to messages it
//! injected (a Parse that re-prepares a statement, the SETs that re-apply
//! a client's parameters, the reset query), answer some messages itself
//! in the right place (Close of a statement), and tell when the server is
//! done (ReadyForQuery with nothing owed).

use std::collections::VecDeque;
use std::rc::Rc;

use super::session_state::Effect;

/// One message's reply still to come.
#[derive(Debug)]
pub enum Reply {
    /// ParseComplete. `statement`: the pool's statement id, which the
    /// server lacks if the Parse fails or is skipped.
    Parse {
        hidden: bool,
        statement: Option<u64>,
    },
    /// BindComplete.
    Bind,
    /// ParameterDescription, then RowDescription or NoData.
    DescribeStatement,
    /// RowDescription or NoData.
    DescribePortal,
    /// DataRows, then CommandComplete, EmptyQueryResponse or
    /// PortalSuspended. `effects`: session state the statement changes.
    Execute { effects: Option<Rc<[Effect]>> },
    /// CloseComplete.
    Close { hidden: bool },
    /// A reply the pool gives itself, in order (ParseComplete `1` for a
    /// statement the server already holds, CloseComplete `3`).
    Synth(u8),
    /// A simple Query the pool answers itself (DEALLOCATE of the client's
    /// statements): CommandComplete with this tag, then ReadyForQuery.
    Answer(&'static str),
    /// ReadyForQuery.
    Sync,
    /// Where the client ended a COPY FROM STDIN (CopyDone or CopyFail)
    /// before the server's CopyInResponse came: owed nothing itself.
    CopyEnd,
    /// A simple Query (or FunctionCall): everything up to ReadyForQuery.
    Query {
        hidden: bool,
        effects: Option<Rc<[Effect]>>,
        failed: bool,
    },
}

/// What to do with one server message.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Pass it to the client.
    pub forward: bool,
    /// A ReadyForQuery that ended a Sync or Query.
    pub ready: bool,
    /// Session state a statement changed, now that it completed.
    pub effects: Option<Rc<[Effect]>>,
    /// Not what the protocol allows here: the connection is unusable.
    pub out_of_step: bool,
}

/// The replies a server connection owes, oldest first.
#[derive(Debug, Default)]
pub struct Expect {
    queue: VecDeque<Reply>,
    /// The server is in COPY FROM STDIN and the client has not ended it:
    /// the server ignores Sync until then, so none is owed.
    in_copy_in: bool,
}

impl Expect {
    pub fn push(&mut self, reply: Reply) {
        self.queue.push_back(reply);
    }

    /// A Sync was forwarded.
    pub fn push_sync(&mut self) {
        if !self.in_copy_in {
            self.queue.push_back(Reply::Sync);
        }
    }

    /// CopyDone or CopyFail was forwarded.
    pub fn copy_end_sent(&mut self) {
        if self.in_copy_in {
            self.in_copy_in = false;
        } else {
            self.queue.push_back(Reply::CopyEnd);
        }
    }

    /// CopyInResponse: Syncs the client sent since the statement, up to
    /// where it ended the COPY, are ignored by the server.
    fn copy_in_started(&mut self) {
        let mut index = 1;
        while index < self.queue.len() {
            match self.queue[index] {
                Reply::Sync => {
                    self.queue.remove(index);
                }
                Reply::CopyEnd => {
                    self.queue.remove(index);
                    return;
                }
                _ => index += 1,
            }
        }
        self.in_copy_in = true;
    }

    /// Nothing owed: the server waits for the next message.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Drops markers owed nothing at the head.
    fn skip_markers(&mut self) {
        while matches!(self.queue.front(), Some(Reply::CopyEnd)) {
            self.queue.pop_front();
        }
    }

    /// Whether what is owed next is the pool's own business (the client
    /// sees none of it).
    pub fn head_hidden(&self) -> bool {
        matches!(
            self.queue.front(),
            Some(Reply::Query { hidden: true, .. } | Reply::Parse { hidden: true, .. })
                | Some(Reply::Close { hidden: true })
        )
    }

    /// Writes the pool's own replies that are due now (at the head);
    /// `txn_status` is the server's, for an answered Query's
    /// ReadyForQuery.
    pub fn emit_synthesized(&mut self, out: &mut Vec<u8>, txn_status: u8) {
        loop {
            self.skip_markers();
            match self.queue.front() {
                Some(Reply::Synth(tag)) => out.extend_from_slice(&[*tag, 0, 0, 0, 4]),
                Some(Reply::Answer(tag)) => answer_query(out, tag, txn_status),
                _ => return,
            }
            self.queue.pop_front();
        }
    }

    /// Accounts for one server message of type `tag`. `forget` is called
    /// with the statements the server does not hold after all.
    pub fn on_message(&mut self, tag: u8, forget: &mut impl FnMut(u64)) -> Outcome {
        let mut outcome = Outcome {
            forward: true,
            ..Outcome::default()
        };
        // Messages that may come at any time.
        if matches!(tag, b'N' | b'A' | b'S') {
            outcome.forward = !self.head_hidden();
            return outcome;
        }
        self.skip_markers();
        if tag == b'G' {
            self.copy_in_started();
        }
        let Some(head) = self.queue.front_mut() else {
            outcome.out_of_step = true;
            return outcome;
        };
        if let Reply::Query {
            hidden,
            effects,
            failed,
        } = head
        {
            outcome.forward = !*hidden;
            match tag {
                b'E' => *failed = true,
                b'Z' => {
                    self.in_copy_in = false;
                    if !*failed {
                        outcome.effects = effects.take();
                    }
                    outcome.ready = true;
                    self.queue.pop_front();
                }
                _ => {}
            }
            return outcome;
        }
        if tag == b'E' {
            // The server skips everything up to Sync.
            outcome.forward = true;
            self.in_copy_in = false;
            while let Some(reply) = self.queue.front() {
                match reply {
                    Reply::Sync => break,
                    Reply::Parse {
                        statement: Some(id),
                        ..
                    } => forget(*id),
                    _ => {}
                }
                self.queue.pop_front();
            }
            return outcome;
        }
        let done = match (&*head, tag) {
            (Reply::Parse { hidden, .. }, b'1') => {
                outcome.forward = !*hidden;
                true
            }
            (Reply::Bind, b'2') => true,
            (Reply::DescribeStatement, b't') => false,
            (Reply::DescribeStatement | Reply::DescribePortal, b'T' | b'n') => true,
            (Reply::Execute { .. }, b'D' | b'G' | b'H' | b'W' | b'd' | b'c') => false,
            (Reply::Execute { effects }, b'C') => {
                outcome.effects = effects.clone();
                true
            }
            (Reply::Execute { .. }, b'I' | b's') => true,
            (Reply::Close { hidden }, b'3') => {
                outcome.forward = !*hidden;
                true
            }
            (Reply::Sync, b'Z') => {
                self.in_copy_in = false;
                outcome.ready = true;
                true
            }
            _ => {
                outcome.out_of_step = true;
                return outcome;
            }
        };
        if done {
            self.queue.pop_front();
        }
        outcome
    }
}

/// CommandComplete `tag` and ReadyForQuery `txn_status`.
pub fn answer_query(out: &mut Vec<u8>, tag: &str, txn_status: u8) {
    out.push(b'C');
    out.extend_from_slice(&(4 + tag.len() as u32 + 1).to_be_bytes());
    out.extend_from_slice(tag.as_bytes());
    out.push(0);
    out.extend_from_slice(&[b'Z', 0, 0, 0, 5, txn_status]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(expect: &mut Expect, tags: &[u8]) -> (Vec<u8>, Vec<u64>) {
        let mut forwarded = Vec::new();
        let mut forgotten = Vec::new();
        for &tag in tags {
            let mut synth = Vec::new();
            expect.emit_synthesized(&mut synth, b'I');
            forwarded.extend(synth.iter().step_by(5));
            let outcome = expect.on_message(tag, &mut |id| forgotten.push(id));
            assert!(!outcome.out_of_step, "{}", tag as char);
            if outcome.forward {
                forwarded.push(tag);
            }
        }
        (forwarded, forgotten)
    }

    #[test]
    fn an_injected_parse_is_hidden_and_a_close_answered_in_order() {
        let mut expect = Expect::default();
        expect.push(Reply::Parse {
            hidden: true,
            statement: Some(7),
        });
        expect.push(Reply::Bind);
        expect.push(Reply::Execute { effects: None });
        expect.push(Reply::Synth(b'3'));
        expect.push(Reply::Sync);
        let (forwarded, forgotten) = run(&mut expect, b"12DDCZ");
        assert_eq!(forwarded, b"2DDC3Z");
        assert!(forgotten.is_empty());
        assert!(expect.is_empty());
    }

    #[test]
    fn an_error_skips_to_sync_and_forgets_skipped_parses() {
        let mut expect = Expect::default();
        expect.push(Reply::Parse {
            hidden: false,
            statement: Some(1),
        });
        expect.push(Reply::Synth(b'1'));
        expect.push(Reply::Parse {
            hidden: true,
            statement: Some(2),
        });
        expect.push(Reply::Bind);
        expect.push(Reply::Sync);
        let (forwarded, forgotten) = run(&mut expect, b"EZ");
        assert_eq!(forwarded, b"EZ");
        assert_eq!(forgotten, vec![1, 2]);
        assert!(expect.is_empty());
    }

    #[test]
    fn a_hidden_query_shows_nothing_and_reports_effects_only_on_success() {
        let mut expect = Expect::default();
        let effects: Rc<[Effect]> = Rc::from(vec![Effect::ResetAll]);
        expect.push(Reply::Query {
            hidden: true,
            effects: Some(effects.clone()),
            failed: false,
        });
        let mut forget = |_| {};
        assert!(!expect.on_message(b'C', &mut forget).forward);
        assert!(!expect.on_message(b'S', &mut forget).forward);
        let ready = expect.on_message(b'Z', &mut forget);
        assert!(ready.ready && !ready.forward && ready.effects.is_some());
        expect.push(Reply::Query {
            hidden: false,
            effects: Some(effects),
            failed: false,
        });
        assert!(expect.on_message(b'E', &mut forget).forward);
        let ready = expect.on_message(b'Z', &mut forget);
        assert!(ready.ready && ready.effects.is_none());
    }

    #[test]
    fn syncs_sent_during_copy_in_are_owed_nothing() {
        // Bind, Execute, Sync, then CopyData..., CopyDone, Sync (as the
        // postgres crate sends COPY FROM STDIN).
        let mut expect = Expect::default();
        expect.push(Reply::Bind);
        expect.push(Reply::Execute { effects: None });
        expect.push_sync();
        let (forwarded, _) = run(&mut expect, b"2G");
        assert_eq!(forwarded, b"2G");
        expect.copy_end_sent();
        expect.push_sync();
        let (forwarded, _) = run(&mut expect, b"CZ");
        assert_eq!(forwarded, b"CZ");
        assert!(expect.is_empty());
        // All of it pipelined before the CopyInResponse.
        expect.push(Reply::Execute { effects: None });
        expect.push_sync();
        expect.copy_end_sent();
        expect.push_sync();
        let (forwarded, _) = run(&mut expect, b"GCZ");
        assert_eq!(forwarded, b"GCZ");
        assert!(expect.is_empty());
    }

    #[test]
    fn a_reply_nobody_asked_for_is_out_of_step() {
        let mut expect = Expect::default();
        assert!(expect.on_message(b'D', &mut |_| {}).out_of_step);
        expect.push(Reply::Bind);
        assert!(expect.on_message(b'1', &mut |_| {}).out_of_step);
    }
}
