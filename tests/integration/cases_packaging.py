# Packaging basics (issue 14 item 5): licence notices, the build flags a
# distribution passes, one version, completions where the shells look, a
# man page clean at style level. Exec'd into run.py's namespace.

NOTICE = ("SPDX-License-Identifier: MIT. Copyright (c) 2026 The rangecat "
          "authors.")


@case("packaging: LICENSE is MIT; every source file and the man page say so")
def t_pkg_license(env):
    with open(os.path.join(ROOT, "LICENSE")) as f:
        text = f.read()
    expect(text.startswith("MIT License\n") and
           "Permission is hereby granted, free of charge" in text,
           "LICENSE is not the MIT licence")
    files = sorted(glob.glob(os.path.join(ROOT, "src", "*.[ch]")))
    expect(len(files) > 20, "no sources found")
    missing = []
    for path in files:
        with open(path) as f:
            if f.readline() != "/* %s */\n" % NOTICE:
                missing.append(os.path.basename(path))
    expect(not missing, "no licence line at the top of %s" % missing)
    with open(os.path.join(ROOT, "man", "rangecat.1")) as f:
        expect(f.readline() == '.\\" %s\n' % NOTICE,
               "no licence line at the top of the man page")
