//! Moving WHERE conditions into the FROM tree, next to the items they
//! read, so that joins combine fewer rows.

use super::*;

/// Moves WHERE conjuncts into the FROM tree, next to the items they read,
/// so joins combine fewer rows. Conditions are never moved into the
/// nullable side of an outer join; those reading no column of this level
/// or containing subqueries stay in WHERE.
pub(super) fn push_down(
    mut node: FromNode,
    filter: Expr,
    sources: &[SourceSlot],
) -> (FromNode, Option<Expr>) {
    let conjuncts = match filter {
        Expr::And(items) => items,
        other => vec![other],
    };
    let mut rest = Vec::new();
    for cond in conjuncts {
        let mut slots = Vec::new();
        if !level_slots(&cond, &mut slots) || slots.is_empty() {
            rest.push(cond);
            continue;
        }
        if let Some(cond) = place(&mut node, cond, &slots, sources) {
            rest.push(cond);
        }
    }
    let rest = match rest.len() {
        0 => None,
        1 => rest.pop(),
        _ => Some(Expr::And(rest)),
    };
    (node, rest)
}

/// Collects the slots of this level `e` reads; false if it holds a
/// subquery (which may read anything).
fn level_slots(e: &Expr, out: &mut Vec<usize>) -> bool {
    match e {
        Expr::Column { up: 0, index } => {
            out.push(*index);
            true
        }
        Expr::Subquery(_)
        | Expr::Exists(_)
        | Expr::ArraySubquery(_)
        | Expr::InSubquery { .. }
        | Expr::Agg(_) => false,
        _ => {
            let mut ok = true;
            let _ = for_each_child(e, &mut |c| {
                ok &= level_slots(c, out);
                Ok(())
            });
            ok
        }
    }
}

fn covers(node: &FromNode, slots: &[usize], sources: &[SourceSlot]) -> bool {
    fn ranges(node: &FromNode, sources: &[SourceSlot], out: &mut Vec<(usize, usize)>) {
        match node {
            FromNode::Leaf { index, .. } => {
                out.push((sources[*index].offset, sources[*index].width))
            }
            FromNode::Join { left, right, .. } => {
                ranges(left, sources, out);
                ranges(right, sources, out);
            }
            FromNode::Filter { input, .. } => ranges(input, sources, out),
        }
    }
    let mut r = Vec::new();
    ranges(node, sources, &mut r);
    slots.iter().all(|s| {
        r.iter()
            .any(|&(offset, width)| (offset..offset + width).contains(s))
    })
}

/// Places `cond` as deep as it can go; gives it back if `node` does not
/// cover its slots.
fn place(node: &mut FromNode, cond: Expr, slots: &[usize], sources: &[SourceSlot]) -> Option<Expr> {
    if !covers(node, slots, sources) {
        return Some(cond);
    }
    let cond = match node {
        FromNode::Filter { input, conditions } => {
            if let Some(c) = place(input, cond, slots, sources) {
                conditions.push(c);
            }
            return None;
        }
        FromNode::Join {
            kind,
            left,
            right,
            on,
            ..
        } => {
            let mut cond = Some(cond);
            if matches!(kind, JoinKind::Inner | JoinKind::Left) {
                cond = place(left, cond.take()?, slots, sources);
            }
            if matches!(kind, JoinKind::Inner | JoinKind::Right) {
                cond = place(right, cond?, slots, sources);
            }
            let cond = cond?;
            // For an inner join, WHERE and ON mean the same: test it while
            // joining, before rows are copied.
            if *kind == JoinKind::Inner {
                *on = Some(match on.take() {
                    None => cond,
                    Some(Expr::And(mut items)) => {
                        items.push(cond);
                        Expr::And(items)
                    }
                    Some(other) => Expr::And(vec![other, cond]),
                });
                return None;
            }
            cond
        }
        FromNode::Leaf { index, filter } => {
            let mut cond = cond;
            shift_columns(&mut cond, sources[*index].offset);
            filter.push(cond);
            return None;
        }
    };
    let input = std::mem::replace(
        node,
        FromNode::Leaf {
            index: usize::MAX,
            filter: Vec::new(),
        },
    );
    *node = FromNode::Filter {
        input: Box::new(input),
        conditions: vec![cond],
    };
    None
}

/// Renumbers this level's columns from the row's slots to one FROM item's
/// own columns (which start at slot `offset`).
fn shift_columns(e: &mut Expr, offset: usize) {
    if let Expr::Column { up: 0, index } = e {
        *index -= offset;
        return;
    }
    for_each_child_mut(e, &mut |c| shift_columns(c, offset));
}
