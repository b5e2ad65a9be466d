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


@case("packaging: builds warning-free with Debian's hardening build flags")
def t_pkg_buildflags(env):
    # A copy of the tree, so the build under test is not disturbed.
    tree = os.path.join(env.work, "pkg-build")
    os.makedirs(tree)
    shutil.copy(os.path.join(ROOT, "Makefile"), tree)
    shutil.copytree(os.path.join(ROOT, "src"), os.path.join(tree, "src"),
                    ignore=shutil.ignore_patterns("*.o"))
    e = dict(os.environ, DEB_BUILD_MAINT_OPTIONS="hardening=+all")
    flags = {}
    for v in ("CFLAGS", "CPPFLAGS", "LDFLAGS"):
        flags[v] = subprocess.run(["dpkg-buildflags", "--get", v], env=e,
                                  capture_output=True, text=True,
                                  check=True).stdout.strip()
    expect("-D_FORTIFY_SOURCE" in flags["CPPFLAGS"] and
           "relro" in flags["LDFLAGS"], "dpkg-buildflags: %s" % flags)
    p = subprocess.run(["make", "-C", tree, "V=1", "rangecat"] +
                       ["%s=%s" % kv for kv in flags.items()],
                       capture_output=True, text=True, env=e)
    expect(p.returncode == 0, "build failed: %s" % p.stderr[-600:])
    expect("warning:" not in p.stderr, "warnings: %s" % p.stderr[-600:])
    cmds = p.stdout
    expect(flags["CPPFLAGS"] in cmds and flags["CFLAGS"] in cmds and
           flags["LDFLAGS"] in cmds, "a flag was not passed: %s"
           % cmds[-400:])
    binary = os.path.join(tree, "rangecat")
    dyn = subprocess.run(["readelf", "-d", binary], capture_output=True,
                         text=True).stdout
    seg = subprocess.run(["readelf", "-lW", binary], capture_output=True,
                         text=True).stdout
    syms = subprocess.run(["nm", "-D", binary], capture_output=True,
                          text=True).stdout
    expect("BIND_NOW" in dyn and "GNU_RELRO" in seg, "no full RELRO")
    expect(re.search(r"__\w+_chk@", syms), "not fortified")
    expect("__stack_chk_fail" in syms, "no stack protector")


def bash_complete(cwd, words):
    """COMPREPLY of the bash completion for words, the last being the one
    completed, split as bash splits them (at "=" by default)."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); '
              'COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _rangecat; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    p = subprocess.run(
        ["bash", "-c", script, "-",
         os.path.join(ROOT, "contrib", "completions", "rangecat.bash"),
         "rangecat"] + words, cwd=cwd, capture_output=True, text=True)
    expect(p.returncode == 0, "bash: %s" % p.stderr[-300:])
    return sorted(l for l in p.stdout.split("\n") if l)


@case("packaging: bash completes --opt=value as well as --opt value")
def t_pkg_bash_equals(env):
    d = os.path.join(env.work, "bashcomp")
    os.makedirs(os.path.join(d, "outdir"))
    for name in ("ca file.pem", "cb.pem"):
        open(os.path.join(d, name), "w").close()
    for words, want in (
            # bash's default COMP_WORDBREAKS holds "=": three words
            (["--progress", "="], ["auto", "bar", "json", "line", "none"]),
            (["--progress", "=", "li"], ["line"]),
            (["--decompress", "=", "z"], ["zstd"]),
            (["--cacert", "=", "ca"], ["ca file.pem"]),
            (["--extract", "=", "ou"], ["outdir"]),
            (["--continue-at", "=", ""], ["-"]),
            (["--connections", "=", ""], []),
            # without "=" in COMP_WORDBREAKS: one word, prefix kept
            (["--progress=li"], ["--progress=line"]),
            (["--cacert=c"], ["--cacert=ca file.pem", "--cacert=cb.pem"]),
            (["--decompress=auto"], ["--decompress=auto",
                                     "--decompress=auto,passthrough"]),
            # the separate-word form and option names still work
            (["--cacert", "c"], ["ca file.pem", "cb.pem"]),
            (["-x", "o"], ["outdir"]),
            (["--connections", ""], []),
            (["--pro"], ["--progress"])):
        got = bash_complete(d, words)
        expect(got == want, "rangecat %s<TAB>: %s, wanted %s"
               % (" ".join(words), got, want))


@case("packaging: fish finds the installed completions by XDG_DATA_DIRS")
def t_pkg_fish_vendor(env):
    dest = os.path.join(env.work, "fishdest")
    p = subprocess.run(["make", "-s", "-C", ROOT, "install",
                        "DESTDIR=" + dest, "PREFIX=/usr"],
                       capture_output=True, text=True)
    expect(p.returncode == 0, "install: " + p.stderr[-300:])
    share = os.path.join(dest, "usr", "share")
    cfg = os.path.join(env.work, "fishcfg")
    os.makedirs(cfg, exist_ok=True)

    def fish(data_dirs):
        # Not sourced: fish must look there itself, as it does for the
        # packages it ships with. It loads completions for a command on
        # PATH, so the installed binary is put there.
        e = dict(os.environ, XDG_DATA_DIRS=data_dirs, HOME=env.work,
                 XDG_CONFIG_HOME=cfg,
                 PATH=os.path.join(dest, "usr", "bin") + ":" +
                 os.environ["PATH"])
        return subprocess.run(["fish", "-c", 'complete -C "rangecat --prog"'],
                              capture_output=True, text=True, env=e)
    p = fish(share)
    expect(re.search(r"^--progress", p.stdout, re.M),
           "fish did not find the completions under %s: %r %r"
           % (share, p.stdout[-200:], p.stderr[-200:]))
    p = fish(env.work)
    expect("--progress" not in p.stdout, "the case tests nothing: fish "
           "completes rangecat without the installed file")


@case("packaging: one version: Makefile, --version, User-Agent, man page")
def t_pkg_version(env):
    with open(os.path.join(ROOT, "Makefile")) as f:
        found = re.findall(r"^VERSION := (\S+)$", f.read(), re.M)
    expect(len(found) == 1 and re.match(r"^\d+\.\d+\.\d+$", found[0]),
           "Makefile VERSION: %s" % found)
    version = found[0]
    p = subprocess.run([BIN, "--version"], capture_output=True, text=True)
    expect(p.stdout.split("\n")[0] == "rangecat " + version,
           "--version says %r, the Makefile %s" % (p.stdout[:40], version))
    strings = subprocess.run(["strings", BIN], capture_output=True,
                             text=True).stdout
    expect("rangecat/" + version in strings.split("\n"),
           "no User-Agent rangecat/%s in the binary" % version)
    # Written nowhere else: not in the sources, the man page, README.md,
    # the completions or contrib/ (where it would go stale).
    p = subprocess.run(["git", "-C", ROOT, "grep", "-n", "-F", "-w",
                        version, "--", ".", ":!Makefile"],
                       capture_output=True, text=True)
    stale = [l for l in p.stdout.splitlines()
             if not re.search(r"\d\.%s|%s\.\d" % (re.escape(version),
                                                 re.escape(version)), l)]
    expect(not stale, "the version is written elsewhere too: %s" % stale)
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    expect("rangecat --version" in readme,
           "README.md does not say where the version is shown")
    dest = os.path.join(env.work, "verdest")
    p = subprocess.run(["make", "-s", "-C", ROOT, "install",
                        "DESTDIR=" + dest, "PREFIX=/usr"],
                       capture_output=True, text=True)
    expect(p.returncode == 0, "install: " + p.stderr[-300:])
    page = os.path.join(dest, "usr/share/man/man1/rangecat.1")
    p = subprocess.run(["mandoc", "-Tutf8", page], capture_output=True,
                       text=True)
    text = re.sub(".\x08", "", p.stdout)    # overstrike bold
    last = [l for l in text.splitlines() if l.strip()][-1]
    expect(re.search(r"^rangecat %s\s.*\srangecat %s$" % (
        re.escape(version), re.escape(version)), last),
           "the installed man page's footer: %r" % last)


@case("packaging: mandoc -Tlint -W style finds nothing in the man page")
def t_pkg_mandoc_style(env):
    p = subprocess.run(["mandoc", "-Tlint", "-W", "style",
                        os.path.join(ROOT, "man", "rangecat.1")],
                       capture_output=True, text=True)
    # Cross-references to pages this machine lacks, and its mandoc.db,
    # are about the machine, not the page (as in make lint).
    left = [l for l in (p.stdout + p.stderr).splitlines()
            if "referenced manual not found" not in l and
            "mandoc.db" not in l]
    expect(not left, "mandoc: %s" % left[:5])
