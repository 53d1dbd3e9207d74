//! placeholder
pub struct UnitTestOptions;
pub struct UnitTestReport;
pub fn run_rule_tests() {}
