# Runs plain-assert test modules under the MicroPython unix interpreter:
#   micropython tests/micropython_runner.py tests.controller.test_safety_kernel ...
# Prints one line per test and a closing "N passed, M failed"; exit 1 on failure.
import sys

root = __file__.rsplit("/", 2)[0] if __file__.count("/") >= 2 else "."
sys.path.insert(0, root)

passed = 0
failed = 0
for name in sys.argv[1:]:
    __import__(name)
    mod = sys.modules[name]
    for attr in sorted(dir(mod)):
        if not attr.startswith("test_"):
            continue
        fn = getattr(mod, attr)
        try:
            fn()
        except Exception as e:  # report and go on, like pytest
            failed += 1
            print("FAIL %s.%s" % (name, attr))
            sys.print_exception(e)
        else:
            passed += 1
            print("ok   %s.%s" % (name, attr))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
