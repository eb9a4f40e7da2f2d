"""`pio test` runner for the firmware test program: it prints one line per failed check
(`EL-TEST FAIL file:line check`) and a final `EL-TEST PASS n=N` or `EL-TEST FAIL n=N failed=F`."""

import re

from platformio.public import TestCase, TestRunnerBase, TestStatus

_FINAL = re.compile(r"EL-TEST (PASS|FAIL) n=(\d+)(?: failed=(\d+))?")
_CHECK = re.compile(r"EL-TEST FAIL (\S+:\d+) (.*)")


class CustomTestRunner(TestRunnerBase):
    def on_testing_line_output(self, line):
        print(line, end="")
        final = _FINAL.search(line)
        if final:
            status = TestStatus.PASSED if final.group(1) == "PASS" else TestStatus.FAILED
            self.test_suite.add_case(TestCase(name="el-test n=%s" % final.group(2), status=status))
            self.test_suite.on_finish()
            return
        check = _CHECK.search(line)
        if check:
            self.test_suite.add_case(TestCase(name=check.group(2).strip(), status=TestStatus.FAILED,
                                              message=check.group(1)))
        if "EL-FAULT" in line:
            self.test_suite.add_case(TestCase(name="fault", status=TestStatus.ERRORED,
                                              exception=RuntimeError("the test program faulted")))
            self.test_suite.on_finish()
