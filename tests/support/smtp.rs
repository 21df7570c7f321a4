//! The e-mail tests' SMTP server: aiosmtpd (`smtp_server.py`) run by the machine's Python, or
//! by one made once for the tests.
#![allow(dead_code)]

use serde_json::Value;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The SMTP server process; killed when dropped.
pub struct Smtp {
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The aiosmtpd release the tests run.
const AIOSMTPD: &str = "aiosmtpd==1.4.6";

/// A Python that has aiosmtpd: the machine's, or else one made once for the tests (a virtual
/// environment under the build's temporary directory, aiosmtpd installed from PyPI). `.ci/run`
/// installs it beforehand.
pub fn python() -> PathBuf {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let has = |py: &Path| {
                Command::new(py)
                    .args(["-c", "import aiosmtpd"])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            };
            let system = PathBuf::from("python3");
            if has(&system) {
                return system;
            }
            let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("smtp-venv");
            let py = venv.join("bin/python3");
            if !has(&py) {
                let made = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().expect("python3 -m venv");
                assert!(made.success(), "python3 -m venv failed (Debian: apt-get install python3-venv)");
                let got = Command::new(&py).args(["-m", "pip", "install", "-q", AIOSMTPD]).status().expect("pip");
                assert!(got.success(), "pip install {AIOSMTPD} failed");
            }
            py
        })
        .clone()
}

impl Smtp {
    pub fn start(port: u16, args: &[&str]) -> Smtp {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let mut child = Command::new(python())
            .arg(script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the test's SMTP server (python3 with aiosmtpd)");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read");
        assert_eq!(line.trim(), "ready", "the SMTP server did not start (is aiosmtpd installed?)");
        Smtp { child, dir }
    }

    /// Every message the server took, in order.
    pub fn received(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files.iter().map(|p| serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json")).collect()
    }
}
