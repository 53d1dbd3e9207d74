//! The PromQL abstract syntax tree.
//!
//! One [`Expr`] enum with a struct per node kind, modelled on Prometheus' `promql/parser/ast.go`
//! (and GreptimeTeam's `promql-parser`). Every node knows its byte span in the query, which
//! type errors and evaluation annotations (`PromQL warning: ... (1:5)`) report.

use argus_model::Matcher;

use super::function_table::Function;

/// The type of value an expression produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// No value (only for malformed trees).
    None,
    /// A single number.
    Scalar,
    /// An instant vector.
    Vector,
    /// A range vector.
    Matrix,
    /// A string.
    String,
}

impl ValueType {
    /// Prometheus' `DocumentedType`: the name used in error messages.
    pub fn documented(self) -> &'static str {
        match self {
            ValueType::None => "none",
            ValueType::Scalar => "scalar",
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
            ValueType::String => "string",
        }
    }

    /// The API `resultType` name (`vector`, `matrix`, ...).
    pub fn api_name(self) -> &'static str {
        match self {
            ValueType::None => "none",
            ValueType::Scalar => "scalar",
            ValueType::Vector => "vector",
            ValueType::Matrix => "matrix",
            ValueType::String => "string",
        }
    }
}

/// A byte range in the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PosRange {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl PosRange {
    /// A range.
    pub fn new(start: usize, end: usize) -> Self {
        PosRange { start, end }
    }

    /// `line:column` (1-based) of the start, as Prometheus' `StartPosInput`.
    pub fn start_line_col(&self, input: &str) -> String {
        line_col(input, self.start)
    }
}

/// `line:column` of byte offset `pos` (1-based, column counted in bytes as Prometheus does).
pub fn line_col(input: &str, pos: usize) -> String {
    if pos > input.len() {
        return "unknown position".to_owned();
    }
    let mut line = 1;
    let mut last_break: isize = -1;
    for (i, b) in input.bytes().enumerate().take(pos) {
        if b == b'\n' {
            line += 1;
            last_break = i as isize;
        }
    }
    format!("{}:{}", line, pos as isize - last_break)
}

/// Aggregation operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggOp {
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `count`
    Count,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `group`
    Group,
    /// `stddev`
    Stddev,
    /// `stdvar`
    Stdvar,
    /// `topk`
    Topk,
    /// `bottomk`
    Bottomk,
    /// `count_values`
    CountValues,
    /// `quantile`
    Quantile,
    /// `limitk` (experimental in Prometheus)
    Limitk,
    /// `limit_ratio` (experimental in Prometheus)
    LimitRatio,
}

impl AggOp {
    /// Parses an aggregation keyword (case-insensitive).
    pub fn from_keyword(s: &str) -> Option<AggOp> {
        Some(match s.to_ascii_lowercase().as_str() {
            "sum" => AggOp::Sum,
            "avg" => AggOp::Avg,
            "count" => AggOp::Count,
            "min" => AggOp::Min,
            "max" => AggOp::Max,
            "group" => AggOp::Group,
            "stddev" => AggOp::Stddev,
            "stdvar" => AggOp::Stdvar,
            "topk" => AggOp::Topk,
            "bottomk" => AggOp::Bottomk,
            "count_values" => AggOp::CountValues,
            "quantile" => AggOp::Quantile,
            "limitk" => AggOp::Limitk,
            "limit_ratio" => AggOp::LimitRatio,
            _ => return None,
        })
    }

    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            AggOp::Sum => "sum",
            AggOp::Avg => "avg",
            AggOp::Count => "count",
            AggOp::Min => "min",
            AggOp::Max => "max",
            AggOp::Group => "group",
            AggOp::Stddev => "stddev",
            AggOp::Stdvar => "stdvar",
            AggOp::Topk => "topk",
            AggOp::Bottomk => "bottomk",
            AggOp::CountValues => "count_values",
            AggOp::Quantile => "quantile",
            AggOp::Limitk => "limitk",
            AggOp::LimitRatio => "limit_ratio",
        }
    }

    /// True for the operators that take a parameter before the vector.
    pub fn has_param(self) -> bool {
        matches!(
            self,
            AggOp::Topk
                | AggOp::Bottomk
                | AggOp::CountValues
                | AggOp::Quantile
                | AggOp::Limitk
                | AggOp::LimitRatio
        )
    }
}

/// Binary operators, including set operators and `atan2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
    /// `==`
    Eql,
    /// `!=`
    Neq,
    /// `>`
    Gtr,
    /// `<`
    Lss,
    /// `>=`
    Gte,
    /// `<=`
    Lte,
    /// `and`
    And,
    /// `or`
    Or,
    /// `unless`
    Unless,
    /// `atan2`
    Atan2,
}

impl BinOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
            BinOp::Eql => "==",
            BinOp::Neq => "!=",
            BinOp::Gtr => ">",
            BinOp::Lss => "<",
            BinOp::Gte => ">=",
            BinOp::Lte => "<=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Unless => "unless",
            BinOp::Atan2 => "atan2",
        }
    }

    /// `==`, `!=`, `>`, `<`, `>=`, `<=`.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eql | BinOp::Neq | BinOp::Gtr | BinOp::Lss | BinOp::Gte | BinOp::Lte
        )
    }

    /// `and`, `or`, `unless`.
    pub fn is_set(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or | BinOp::Unless)
    }

    /// Arithmetic operators change what a metric means, so they drop its name.
    pub fn changes_metric_schema(self) -> bool {
        matches!(
            self,
            BinOp::Add
                | BinOp::Sub
                | BinOp::Mul
                | BinOp::Div
                | BinOp::Pow
                | BinOp::Mod
                | BinOp::Atan2
        )
    }

    /// Precedence, higher binds tighter (Prometheus' yacc `%left`/`%right` order).
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And | BinOp::Unless => 2,
            BinOp::Eql | BinOp::Neq | BinOp::Gtr | BinOp::Lss | BinOp::Gte | BinOp::Lte => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Atan2 => 5,
            BinOp::Pow => 6,
        }
    }

    /// `^` is the only right-associative operator.
    pub fn right_assoc(self) -> bool {
        self == BinOp::Pow
    }
}

/// Cardinality of vector matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Card {
    /// Default for arithmetic and comparisons.
    OneToOne,
    /// `group_left`
    ManyToOne,
    /// `group_right`
    OneToMany,
    /// Set operators.
    ManyToMany,
}

/// How two vectors are matched in a binary operation.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorMatching {
    /// Cardinality.
    pub card: Card,
    /// `on`/`ignoring` label list.
    pub matching_labels: Vec<String>,
    /// True for `on`, false for `ignoring` (or no clause).
    pub on: bool,
    /// `group_left`/`group_right` extra labels.
    pub include: Vec<String>,
    /// `fill_left`/`fill` value for missing left-hand series.
    pub fill_lhs: Option<f64>,
    /// `fill_right`/`fill` value for missing right-hand series.
    pub fill_rhs: Option<f64>,
}

impl Default for VectorMatching {
    fn default() -> Self {
        VectorMatching {
            card: Card::OneToOne,
            matching_labels: Vec::new(),
            on: false,
            include: Vec::new(),
            fill_lhs: None,
            fill_rhs: None,
        }
    }
}

/// The `@` modifier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AtModifier {
    /// `@ <timestamp>`, in ms.
    At(i64),
    /// `@ start()`
    Start,
    /// `@ end()`
    End,
}

/// Operators of duration expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
}

impl DurOp {
    /// As written.
    pub fn as_str(self) -> &'static str {
        match self {
            DurOp::Add => "+",
            DurOp::Sub => "-",
            DurOp::Mul => "*",
            DurOp::Div => "/",
            DurOp::Mod => "%",
            DurOp::Pow => "^",
        }
    }
}

/// A duration expression (`[5m+1m]`, `offset (1m*2)`, `[step()*5]`); values are seconds.
#[derive(Debug, Clone, PartialEq)]
pub enum DurationExpr {
    /// A number (seconds) or duration literal; `duration` remembers the spelling.
    Literal {
        /// Seconds.
        secs: f64,
        /// True when written as a duration (`5m`).
        duration: bool,
    },
    /// `-x` / `+x`.
    Neg(Box<DurationExpr>),
    /// `a op b`.
    Binary(DurOp, Box<DurationExpr>, Box<DurationExpr>),
    /// `(x)`.
    Paren(Box<DurationExpr>),
    /// `step()`: the query step.
    Step,
    /// `range()`: end minus start of the query.
    Range,
    /// `min_of(a, b)`.
    MinOf(Box<DurationExpr>, Box<DurationExpr>),
    /// `max_of(a, b)`.
    MaxOf(Box<DurationExpr>, Box<DurationExpr>),
}

impl DurationExpr {
    /// Evaluates to seconds given the query step and range (both ms).
    pub fn eval_secs(&self, step_ms: i64, range_ms: i64) -> f64 {
        match self {
            DurationExpr::Literal { secs, .. } => *secs,
            DurationExpr::Neg(e) => -e.eval_secs(step_ms, range_ms),
            DurationExpr::Paren(e) => e.eval_secs(step_ms, range_ms),
            DurationExpr::Step => step_ms as f64 / 1000.0,
            DurationExpr::Range => range_ms as f64 / 1000.0,
            DurationExpr::MinOf(a, b) => go_min(
                a.eval_secs(step_ms, range_ms),
                b.eval_secs(step_ms, range_ms),
            ),
            DurationExpr::MaxOf(a, b) => go_max(
                a.eval_secs(step_ms, range_ms),
                b.eval_secs(step_ms, range_ms),
            ),
            DurationExpr::Binary(op, a, b) => {
                let (a, b) = (
                    a.eval_secs(step_ms, range_ms),
                    b.eval_secs(step_ms, range_ms),
                );
                match op {
                    DurOp::Add => a + b,
                    DurOp::Sub => a - b,
                    DurOp::Mul => a * b,
                    DurOp::Div => a / b,
                    DurOp::Mod => a % b,
                    DurOp::Pow => a.powf(b),
                }
            }
        }
    }

    /// True when the value depends on the query (`step()`/`range()`).
    pub fn is_dynamic(&self) -> bool {
        match self {
            DurationExpr::Literal { .. } => false,
            DurationExpr::Step | DurationExpr::Range => true,
            DurationExpr::Neg(e) | DurationExpr::Paren(e) => e.is_dynamic(),
            DurationExpr::Binary(_, a, b)
            | DurationExpr::MinOf(a, b)
            | DurationExpr::MaxOf(a, b) => a.is_dynamic() || b.is_dynamic(),
        }
    }
}

/// Go's `math.Min`: NaN if either is NaN.
pub fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// Go's `math.Max`: NaN if either is NaN.
pub fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// A duration given to a range, subquery step or offset: a constant, or an expression that
/// is resolved when the query runs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DurationParam {
    /// The value in ms when constant (or the resolved value).
    pub ms: i64,
    /// The expression, when one was written (printed instead of `ms`).
    pub expr: Option<Box<DurationExpr>>,
}

impl DurationParam {
    /// A constant duration.
    pub fn constant(ms: i64) -> Self {
        DurationParam { ms, expr: None }
    }

    /// The value in ms for a query with the given step and range.
    pub fn resolve(&self, step_ms: i64, range_ms: i64) -> i64 {
        match &self.expr {
            None => self.ms,
            Some(e) => secs_to_ms(e.eval_secs(step_ms, range_ms)),
        }
    }

    /// True when neither a constant nor an expression was given (`[5m:]` step, no offset).
    pub fn is_zero(&self) -> bool {
        self.ms == 0 && self.expr.is_none()
    }
}

/// Seconds to whole milliseconds. Values within floating-point noise of a whole millisecond
/// (`1.001 * 1000` is `1000.9999999999999`) round to it; anything else truncates.
pub fn secs_to_ms(secs: f64) -> i64 {
    let v = secs * 1000.0;
    if v.is_nan() {
        return 0;
    }
    let r = v.round();
    if (v - r).abs() < 1e-6 {
        r as i64
    } else {
        v as i64
    }
}

/// An aggregation: `sum by (job) (x)`, `topk(3, x)`.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateExpr {
    /// Operator.
    pub op: AggOp,
    /// The aggregated vector.
    pub expr: Box<Expr>,
    /// The parameter (`k`, quantile, label name), if the operator takes one.
    pub param: Option<Box<Expr>>,
    /// `by`/`without` labels.
    pub grouping: Vec<String>,
    /// True for `without`.
    pub without: bool,
    /// Span.
    pub pos: PosRange,
}

/// Unary `-` or `+`.
#[derive(Debug, Clone, PartialEq)]
pub struct UnaryExpr {
    /// True for `-`.
    pub neg: bool,
    /// Operand.
    pub expr: Box<Expr>,
    /// Start of the operator.
    pub start: usize,
}

/// A binary operation.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryExpr {
    /// Operator.
    pub op: BinOp,
    /// Left operand.
    pub lhs: Box<Expr>,
    /// Right operand.
    pub rhs: Box<Expr>,
    /// Vector matching (None when an operand is a scalar).
    pub matching: Option<VectorMatching>,
    /// The `bool` modifier.
    pub return_bool: bool,
}

/// `( expr )`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParenExpr {
    /// Inner expression.
    pub expr: Box<Expr>,
    /// Span including the parentheses.
    pub pos: PosRange,
}

/// `expr[range:step]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubqueryExpr {
    /// Inner expression (an instant vector).
    pub expr: Box<Expr>,
    /// Range.
    pub range: DurationParam,
    /// Step (zero means the default step).
    pub step: DurationParam,
    /// Offset.
    pub offset: DurationParam,
    /// `@` modifier.
    pub at: Option<AtModifier>,
    /// End of the subquery's text.
    pub end_pos: usize,
}

/// A number literal.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberLiteral {
    /// Value.
    pub val: f64,
    /// Written as a duration (`5m` = 300).
    pub duration: bool,
    /// Span.
    pub pos: PosRange,
}

/// A string literal.
#[derive(Debug, Clone, PartialEq)]
pub struct StringLiteral {
    /// Unquoted value (invalid UTF-8 replaced by U+FFFD; see `raw`).
    pub val: String,
    /// The exact bytes when escapes produced invalid UTF-8 (`"\xff"`), else None.
    pub raw: Option<Vec<u8>>,
    /// Span.
    pub pos: PosRange,
}

/// An instant vector selector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSelector {
    /// Metric name written outside the braces ("" if none).
    pub name: String,
    /// All matchers (a `__name__` matcher for `name` included, last).
    pub matchers: Vec<Matcher>,
    /// Offset.
    pub offset: DurationParam,
    /// `@` modifier.
    pub at: Option<AtModifier>,
    /// `anchored` range modifier (experimental).
    pub anchored: bool,
    /// `smoothed` modifier (experimental).
    pub smoothed: bool,
    /// Span.
    pub pos: PosRange,
}

/// A range vector selector `v[5m]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixSelector {
    /// The underlying selector (holds offset and `@`).
    pub vs: VectorSelector,
    /// The range.
    pub range: DurationParam,
    /// End of the selector's text.
    pub end_pos: usize,
}

/// A function call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The function.
    pub func: &'static Function,
    /// Arguments.
    pub args: Vec<Expr>,
    /// Span.
    pub pos: PosRange,
}

/// A PromQL expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Aggregation.
    Aggregate(AggregateExpr),
    /// Unary minus/plus.
    Unary(UnaryExpr),
    /// Binary operation.
    Binary(BinaryExpr),
    /// Parentheses.
    Paren(ParenExpr),
    /// Subquery.
    Subquery(SubqueryExpr),
    /// Number.
    NumberLiteral(NumberLiteral),
    /// String.
    StringLiteral(StringLiteral),
    /// Instant vector selector.
    VectorSelector(VectorSelector),
    /// Range vector selector.
    MatrixSelector(MatrixSelector),
    /// Function call.
    Call(Call),
}

impl Expr {
    /// The value type this expression produces.
    pub fn value_type(&self) -> ValueType {
        match self {
            Expr::Aggregate(_) | Expr::VectorSelector(_) => ValueType::Vector,
            Expr::Unary(u) => u.expr.value_type(),
            Expr::Binary(b) => {
                if b.lhs.value_type() == ValueType::Scalar
                    && b.rhs.value_type() == ValueType::Scalar
                {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
            Expr::Paren(p) => p.expr.value_type(),
            Expr::Subquery(_) | Expr::MatrixSelector(_) => ValueType::Matrix,
            Expr::NumberLiteral(_) => ValueType::Scalar,
            Expr::StringLiteral(_) => ValueType::String,
            Expr::Call(c) => c.func.return_type,
        }
    }

    /// The expression's span in the query.
    pub fn pos(&self) -> PosRange {
        match self {
            Expr::Aggregate(a) => a.pos,
            Expr::Unary(u) => PosRange::new(u.start, u.expr.pos().end),
            Expr::Binary(b) => PosRange::new(b.lhs.pos().start, b.rhs.pos().end),
            Expr::Paren(p) => p.pos,
            Expr::Subquery(s) => PosRange::new(s.expr.pos().start, s.end_pos),
            Expr::NumberLiteral(n) => n.pos,
            Expr::StringLiteral(s) => s.pos,
            Expr::VectorSelector(v) => v.pos,
            Expr::MatrixSelector(m) => PosRange::new(m.vs.pos.start, m.end_pos),
            Expr::Call(c) => c.pos,
        }
    }

    /// The expression with any enclosing parentheses removed.
    pub fn unparen(&self) -> &Expr {
        let mut e = self;
        while let Expr::Paren(p) = e {
            e = &p.expr;
        }
        e
    }

    /// Children in evaluation order.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Aggregate(a) => {
                let mut v: Vec<&Expr> = Vec::with_capacity(2);
                if let Some(p) = &a.param {
                    v.push(p);
                }
                v.push(&a.expr);
                v
            }
            Expr::Unary(u) => vec![&u.expr],
            Expr::Binary(b) => vec![&b.lhs, &b.rhs],
            Expr::Paren(p) => vec![&p.expr],
            Expr::Subquery(s) => vec![&s.expr],
            Expr::Call(c) => c.args.iter().collect(),
            Expr::NumberLiteral(_)
            | Expr::StringLiteral(_)
            | Expr::VectorSelector(_)
            | Expr::MatrixSelector(_) => Vec::new(),
        }
    }

    /// Visits every node depth-first (pre-order) with the path of its ancestors.
    pub fn inspect<'a>(&'a self, f: &mut impl FnMut(&'a Expr, &[&'a Expr])) {
        fn walk<'a>(
            e: &'a Expr,
            path: &mut Vec<&'a Expr>,
            f: &mut impl FnMut(&'a Expr, &[&'a Expr]),
        ) {
            f(e, path);
            path.push(e);
            for c in e.children() {
                walk(c, path, f);
            }
            path.pop();
        }
        walk(self, &mut Vec::new(), f);
    }
}
