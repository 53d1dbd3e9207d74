//! Type checking of a parsed expression (Prometheus' `checkAST`).
//!
//! Runs after a syntactically valid parse and reports the first problem in the same
//! traversal order as Prometheus, with the same messages and positions. It also normalises
//! the tree the way Prometheus does: set operators get many-to-many matching, and vector
//! matching is dropped when an operand is a scalar.

use argus_model::METRIC_NAME;

use super::ast::*;
use super::token::go_quote;
use super::ParseError;

type CResult<T> = Result<T, ParseError>;

/// Checks `e` (parsed from `input`) and normalises it in place.
pub fn check(e: &mut Expr, input: &str) -> CResult<()> {
    Checker { input }.check(e).map(|_| ())
}

struct Checker<'a> {
    input: &'a str,
}

impl Checker<'_> {
    fn err(&self, pos: usize, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.input, pos, msg.into())
    }

    fn expect_type(&self, e: &mut Expr, want: ValueType, context: &str) -> CResult<()> {
        let t = self.check(e)?;
        if t != want {
            return Err(self.err(
                e.pos().start,
                format!(
                    "expected type {} in {context}, got {}",
                    want.documented(),
                    t.documented()
                ),
            ));
        }
        Ok(())
    }

    /// Start of the operator between the operands of a binary expression.
    fn op_pos(&self, b: &BinaryExpr) -> usize {
        let mut p = b.lhs.pos().end;
        let bytes = self.input.as_bytes();
        while bytes
            .get(p)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            p += 1;
        }
        p
    }

    fn check(&self, e: &mut Expr) -> CResult<ValueType> {
        let typ = e.value_type();
        match e {
            Expr::Aggregate(a) => {
                self.expect_type(&mut a.expr, ValueType::Vector, "aggregation expression")?;
                if let Some(p) = a.param.as_deref_mut() {
                    match a.op {
                        AggOp::Topk
                        | AggOp::Bottomk
                        | AggOp::Quantile
                        | AggOp::Limitk
                        | AggOp::LimitRatio => {
                            self.expect_type(p, ValueType::Scalar, "aggregation parameter")?
                        }
                        AggOp::CountValues => {
                            self.expect_type(p, ValueType::String, "aggregation parameter")?
                        }
                        _ => {}
                    }
                }
            }
            Expr::Binary(b) => self.check_binary(b)?,
            Expr::Call(c) => self.check_call(c)?,
            Expr::Paren(p) => {
                self.check(&mut p.expr)?;
            }
            Expr::Unary(u) => {
                let t = self.check(&mut u.expr)?;
                if t != ValueType::Scalar && t != ValueType::Vector {
                    return Err(self.err(
                        u.start,
                        format!(
                            "unary expression only allowed on expressions of type scalar or instant vector, got {}",
                            go_quote(t.documented())
                        ),
                    ));
                }
            }
            Expr::Subquery(s) => {
                let t = self.check(&mut s.expr)?;
                if t != ValueType::Vector {
                    return Err(self.err(
                        s.expr.pos().start,
                        format!(
                            "subquery is only allowed on instant vector, got {} instead",
                            t.api_name()
                        ),
                    ));
                }
            }
            Expr::MatrixSelector(m) => self.check_selector(&m.vs, false)?,
            Expr::VectorSelector(vs) => self.check_selector(vs, false)?,
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) => {}
        }
        Ok(typ)
    }

    fn check_binary(&self, b: &mut BinaryExpr) -> CResult<()> {
        let lt = self.check(&mut b.lhs)?;
        let rt = self.check(&mut b.rhs)?;
        let op = b.op;
        if b.return_bool && !op.is_comparison() {
            return Err(self.err(
                self.op_pos(b),
                "bool modifier can only be used on comparison operators",
            ));
        }
        if op.is_comparison()
            && !b.return_bool
            && lt == ValueType::Scalar
            && rt == ValueType::Scalar
        {
            return Err(self.err(
                self.op_pos(b),
                "comparisons between scalars must use BOOL modifier",
            ));
        }
        let op_pos = self.op_pos(b);
        if let Some(vm) = b.matching.as_mut() {
            if op.is_set() && vm.card == Card::OneToOne {
                vm.card = Card::ManyToMany;
            }
            if vm.on {
                if let Some(l) = vm.matching_labels.iter().find(|l| vm.include.contains(l)) {
                    return Err(self.err(
                        op_pos,
                        format!(
                            "label {} must not occur in ON and GROUP clause at once",
                            go_quote(l)
                        ),
                    ));
                }
            }
        }
        let start = b.lhs.pos().start;
        if lt != ValueType::Scalar && lt != ValueType::Vector {
            return Err(self.err(
                start,
                "binary expression must contain only scalar and instant vector types",
            ));
        }
        if rt != ValueType::Scalar && rt != ValueType::Vector {
            return Err(self.err(
                b.rhs.pos().start,
                "binary expression must contain only scalar and instant vector types",
            ));
        }
        if lt != ValueType::Vector || rt != ValueType::Vector {
            if let Some(vm) = &b.matching {
                if !vm.matching_labels.is_empty() {
                    return Err(self.err(
                        start,
                        "vector matching only allowed between instant vectors",
                    ));
                }
                if vm.fill_lhs.is_some() || vm.fill_rhs.is_some() {
                    return Err(self.err(
                        start,
                        "filling in missing series only allowed between instant vectors",
                    ));
                }
            }
            b.matching = None;
        } else if op.is_set() {
            if let Some(vm) = &b.matching {
                if matches!(vm.card, Card::OneToMany | Card::ManyToOne) {
                    return Err(self.err(
                        start,
                        format!(
                            "no grouping allowed for {} operation",
                            go_quote(op.as_str())
                        ),
                    ));
                }
                if vm.card != Card::ManyToMany {
                    return Err(self.err(start, "set operations must always be many-to-many"));
                }
                if vm.fill_lhs.is_some() || vm.fill_rhs.is_some() {
                    return Err(self.err(
                        start,
                        "filling in missing series not allowed for set operators",
                    ));
                }
            }
        }
        if (lt == ValueType::Scalar || rt == ValueType::Scalar) && op.is_set() {
            return Err(self.err(
                start,
                format!(
                    "set operator {} not allowed in binary scalar expression",
                    go_quote(op.as_str())
                ),
            ));
        }
        Ok(())
    }

    fn check_call(&self, c: &mut Call) -> CResult<()> {
        let f = c.func;
        let nargs = f.arg_types.len();
        let got = c.args.len();
        if f.variadic == 0 {
            if nargs != got {
                return Err(self.err(
                    c.pos.start,
                    format!(
                        "expected {nargs} argument(s) in call to {}, got {got}",
                        go_quote(f.name)
                    ),
                ));
            }
        } else {
            let na = nargs.saturating_sub(1);
            if na > got {
                return Err(self.err(
                    c.pos.start,
                    format!(
                        "expected at least {na} argument(s) in call to {}, got {got}",
                        go_quote(f.name)
                    ),
                ));
            }
            let max = na as i64 + i64::from(f.variadic);
            if f.variadic > 0 && max < got as i64 {
                return Err(self.err(
                    c.pos.start,
                    format!(
                        "expected at most {max} argument(s) in call to {}, got {got}",
                        go_quote(f.name)
                    ),
                ));
            }
        }
        let mut info_labels_arg = false;
        if f.name == "info" && got > 1 {
            if let Some(arg) = c.args.get(1) {
                let t = arg.value_type();
                if t != ValueType::Vector {
                    return Err(self.err(
                        c.pos.start,
                        format!(
                            "expected type instant vector in call to function \"info\", got {}",
                            t.documented()
                        ),
                    ));
                }
                match arg {
                    Expr::VectorSelector(vs) if !vs.name.is_empty() => {
                        return Err(self.err(
                            arg.pos().start,
                            "expected label selectors only, got vector selector instead",
                        ))
                    }
                    Expr::VectorSelector(_) => info_labels_arg = true,
                    _ => return Err(self.err(arg.pos().start, "expected label selectors only")),
                }
            }
        }
        for (i, arg) in c.args.iter_mut().enumerate() {
            let idx = if i >= nargs {
                if f.variadic == 0 {
                    break;
                }
                nargs - 1
            } else {
                i
            };
            let Some(&want) = f.arg_types.get(idx) else {
                break;
            };
            let t = if info_labels_arg && i == 1 {
                if let Expr::VectorSelector(vs) = arg {
                    self.check_selector(vs, true)?;
                }
                ValueType::Vector
            } else {
                self.check(arg)?
            };
            if t != want {
                return Err(self.err(
                    arg.pos().start,
                    format!(
                        "expected type {} in call to function {}, got {}",
                        want.documented(),
                        go_quote(f.name),
                        t.documented()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_selector(&self, vs: &VectorSelector, bypass_empty_check: bool) -> CResult<()> {
        if !vs.name.is_empty() {
            let others = vs.matchers.len().saturating_sub(1);
            if let Some(m) = vs
                .matchers
                .iter()
                .take(others)
                .find(|m| m.name == METRIC_NAME)
            {
                return Err(self.err(
                    vs.pos.start,
                    format!(
                        "metric name must not be set twice: {} or {}",
                        go_quote(&vs.name),
                        go_quote(&m.value)
                    ),
                ));
            }
            return Ok(());
        }
        if !bypass_empty_check && !vs.matchers.iter().any(|m| !m.matches_empty()) {
            return Err(self.err(
                vs.pos.start,
                "vector selector must contain at least one non-empty matcher",
            ));
        }
        Ok(())
    }
}
