//! A real PostgreSQL for tests of upstream pooling: initdb'd into a fresh
//! temp dir, listening on 127.0.0.1 on a free port (Unix socket in the
//! temp dir, so the Debian package's own cluster plays no part), stopped
//! and removed on drop.
//!
//! Roles: `postgres` (superuser, trust), [`SCRAM_USER`] (scram-sha-256),
//! [`MD5_USER`] (md5, with an md5-hashed password: a SCRAM-hashed one
//! would make PostgreSQL run SCRAM even for an md5 pg_hba line) and
//! [`TRUST_USER`] (trust); any other role has no pg_hba.conf entry.
//! Database [`DATABASE`] exists besides `postgres`.
//!
//! PostgreSQL refuses to run as root, and CI runs as root: then initdb and
//! pg_ctl run as user `postgres` (created by Debian's postgresql package)
//! through setpriv, and the temp dir is handed to that user first, as
//! tests/e2e/lib.sh does. Missing server binaries fail the test with a
//! message saying so: CI installs them, so a silent pass would hide a
//! broken setup.

use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const SCRAM_USER: &str = "scram_user";
pub const SCRAM_PASSWORD: &str = "scram-secret";
pub const MD5_USER: &str = "md5_user";
pub const MD5_PASSWORD: &str = "md5-secret";
pub const TRUST_USER: &str = "trust_user";
pub const DATABASE: &str = "app";

/// Bounds on the slow steps (generous: a loaded CI machine is slow).
const INITDB_TIMEOUT: Duration = Duration::from_secs(120);
const PG_CTL_TIMEOUT: Duration = Duration::from_secs(90);
/// Start attempts: a free port found by binding port 0 can be taken by
/// another test before the postmaster binds it.
const START_ATTEMPTS: usize = 5;

/// A running PostgreSQL cluster; stopped and removed on drop.
pub struct UpstreamPg {
    /// The temp dir: data dir, Unix socket and logs.
    pub dir: PathBuf,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    /// Where initdb, pg_ctl and postgres are.
    pub bin_dir: PathBuf,
    /// Root runs the server binaries as user postgres.
    run_as_postgres: bool,
}

impl UpstreamPg {
    /// A fresh cluster of this test's own. Panics, saying why, when there
    /// are no server binaries or the server does not come up.
    pub fn start() -> UpstreamPg {
        match UpstreamPg::try_start() {
            Ok(pg) => pg,
            Err(error) => panic!("upstream PostgreSQL for the test: {error}"),
        }
    }

    /// One cluster shared by the tests running at the same time in this
    /// test binary (initdb costs seconds); it stops when the last of them
    /// drops its handle.
    pub fn shared() -> Arc<UpstreamPg> {
        static SHARED: Mutex<Weak<UpstreamPg>> = Mutex::new(Weak::new());
        let mut slot = SHARED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(pg) = slot.upgrade() {
            return pg;
        }
        let pg = Arc::new(UpstreamPg::start());
        *slot = Arc::downgrade(&pg);
        pg
    }

    pub fn try_start() -> Result<UpstreamPg, String> {
        let bin_dir = find_bin_dir()?;
        // SAFETY: geteuid has no preconditions.
        let run_as_postgres = unsafe { libc::geteuid() } == 0;
        let owner = if run_as_postgres {
            Some(postgres_ids()?)
        } else {
            None
        };
        let dir = make_temp_dir(owner)?;
        let mut pg = UpstreamPg {
            dir,
            port: 0,
            bin_dir,
            run_as_postgres,
        };
        // From here on, Drop cleans up whatever got made.
        pg.init(owner)?;
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            pg.port = free_port()?;
            match pg.pg_ctl_start() {
                Ok(()) => {
                    pg.create_roles()?;
                    return Ok(pg);
                }
                Err(error) => last_error = error,
            }
        }
        pg.port = 0;
        Err(format!(
            "postgres did not start in {START_ATTEMPTS} attempts: {last_error}"
        ))
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The server's log so far (for failure messages).
    pub fn server_log(&self) -> String {
        fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// A `postgres` crate client as the superuser, over TCP (trust).
    pub fn admin(&self) -> postgres::Client {
        self.client("postgres", "postgres", None)
            .unwrap_or_else(|e| panic!("superuser connection: {e}\n{}", self.server_log()))
    }

    pub fn client(
        &self,
        user: &str,
        database: &str,
        password: Option<&str>,
    ) -> Result<postgres::Client, postgres::Error> {
        let mut config = postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(self.port)
            .user(user)
            .dbname(database)
            .connect_timeout(Duration::from_secs(10));
        if let Some(password) = password {
            config.password(password);
        }
        config.connect(postgres::NoTls)
    }

    /// `pg_ctl restart` (fast mode: open sessions are terminated), on the
    /// same port; returns once the server accepts connections again.
    /// Panics, with the server log's tail, when it does not come back.
    pub fn restart(&self) {
        let mut pg_ctl = self.server_command("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-m", "fast", "-w", "-t", "60", "-o"])
            .arg(format!("-p {}", self.port))
            .arg("restart");
        if let Err(error) = run_bounded(
            pg_ctl,
            "pg_ctl restart",
            &self.dir.join("pg_ctl-restart.log"),
            PG_CTL_TIMEOUT,
        ) {
            let log = self.server_log();
            let tail = &log[log.len().saturating_sub(2000)..];
            panic!("{error}\nserver log (tail):\n{tail}");
        }
    }

    /// initdb, then our pg_hba.conf and settings.
    fn init(&self, owner: Option<(u32, u32)>) -> Result<(), String> {
        let data = self.data_dir();
        let mut initdb = self.server_command("initdb");
        initdb.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "-N",
        ]);
        run_bounded(
            initdb,
            "initdb",
            &self.dir.join("initdb.log"),
            INITDB_TIMEOUT,
        )?;

        let hba = format!(
            "# Written by tests/common/upstream_pg.rs.\n\
             local all all trust\n\
             host all postgres 127.0.0.1/32 trust\n\
             host all {TRUST_USER} 127.0.0.1/32 trust\n\
             host all {MD5_USER} 127.0.0.1/32 md5\n\
             host all {SCRAM_USER} 127.0.0.1/32 scram-sha-256\n"
        );
        // The socket lives in the temp dir; fsync off: the cluster is
        // thrown away, and durability is not what these tests check.
        let settings = format!(
            "\n# Added by tests/common/upstream_pg.rs.\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{}'\n\
             password_encryption = 'scram-sha-256'\n\
             max_connections = 40\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n",
            self.dir.display()
        );
        write_owned(&data.join("pg_hba.conf"), hba.as_bytes(), false, owner)?;
        write_owned(
            &data.join("postgresql.conf"),
            settings.as_bytes(),
            true,
            owner,
        )?;
        Ok(())
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        let mut pg_ctl = self.server_command("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-w", "-t", "60", "-o"])
            .arg(format!("-p {}", self.port))
            .arg("start");
        run_bounded(
            pg_ctl,
            "pg_ctl start",
            &self.dir.join("pg_ctl.log"),
            PG_CTL_TIMEOUT,
        )
        .map_err(|error| {
            let log = self.server_log();
            let tail = &log[log.len().saturating_sub(2000)..];
            format!("{error}\nserver log (tail):\n{tail}")
        })
    }

    /// The test roles (with passwords hashed as their pg_hba lines need)
    /// and the test database.
    fn create_roles(&self) -> Result<(), String> {
        let mut admin = self
            .client("postgres", "postgres", None)
            .map_err(|e| format!("superuser connection: {e}"))?;
        let statements = [
            format!("CREATE ROLE {SCRAM_USER} LOGIN PASSWORD '{SCRAM_PASSWORD}'"),
            "SET password_encryption = 'md5'".to_string(),
            format!("CREATE ROLE {MD5_USER} LOGIN PASSWORD '{MD5_PASSWORD}'"),
            "RESET password_encryption".to_string(),
            format!("CREATE ROLE {TRUST_USER} LOGIN"),
            // Not in one batch: CREATE DATABASE refuses a transaction block.
            format!("CREATE DATABASE {DATABASE}"),
        ];
        for sql in &statements {
            admin
                .batch_execute(sql)
                .map_err(|e| format!("{sql}: {e}"))?;
        }
        let row = admin
            .query_one(
                "SELECT (SELECT rolpassword FROM pg_authid WHERE rolname = $1) LIKE 'SCRAM-SHA-256$%', \
                        (SELECT rolpassword FROM pg_authid WHERE rolname = $2) LIKE 'md5%'",
                &[&SCRAM_USER, &MD5_USER],
            )
            .map_err(|e| format!("checking the stored passwords: {e}"))?;
        let (scram, md5): (bool, bool) = (row.get(0), row.get(1));
        if !(scram && md5) {
            return Err(format!(
                "stored passwords are not as meant (scram {scram}, md5 {md5})"
            ));
        }
        Ok(())
    }

    /// A server binary, run as user postgres when we are root, with an
    /// environment that cannot redirect it (PGDATA, PGPORT, ...).
    fn server_command(&self, program: &str) -> Command {
        let path = self.bin_dir.join(program);
        let mut command = if self.run_as_postgres {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "--",
            ])
            .arg(path);
            c
        } else {
            Command::new(path)
        };
        command
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("LC_ALL", "C")
            .env("LANG", "C");
        command
    }

    fn stop(&self) -> Result<(), String> {
        let mut pg_ctl = self.server_command("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "fast", "-w", "-t", "30", "stop"]);
        run_bounded(
            pg_ctl,
            "pg_ctl stop",
            &self.dir.join("pg_ctl-stop.log"),
            PG_CTL_TIMEOUT,
        )
    }
}

impl Drop for UpstreamPg {
    fn drop(&mut self) {
        let pid_file = self.data_dir().join("postmaster.pid");
        if pid_file.exists() {
            if let Err(error) = self.stop() {
                eprintln!("upstream PostgreSQL: {error}; killing it");
                // The first line of postmaster.pid is the postmaster's pid.
                let pid = fs::read_to_string(&pid_file)
                    .ok()
                    .and_then(|text| text.lines().next()?.trim().parse::<libc::pid_t>().ok());
                if let Some(pid) = pid.filter(|&pid| pid > 0) {
                    // SAFETY: kill has no memory-safety preconditions; the
                    // pid is this cluster's postmaster.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
        if let Err(error) = fs::remove_dir_all(&self.dir) {
            eprintln!(
                "upstream PostgreSQL: removing {}: {error}",
                self.dir.display()
            );
        }
    }
}

/// The server binaries: $PG_BINDIR, else the newest
/// /usr/lib/postgresql/<version>/bin that has initdb, pg_ctl and postgres.
fn find_bin_dir() -> Result<PathBuf, String> {
    let complete = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|p| dir.join(p).is_file())
    };
    if let Some(dir) = std::env::var_os("PG_BINDIR") {
        let dir = PathBuf::from(dir);
        return if complete(&dir) {
            Ok(dir)
        } else {
            Err(format!(
                "PG_BINDIR={} lacks initdb, pg_ctl or postgres",
                dir.display()
            ))
        };
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| complete(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir).ok_or_else(|| {
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) in /usr/lib/postgresql/*/bin \
         and PG_BINDIR is not set: install Debian's postgresql package (.ci/run does)"
            .to_string()
    })
}

/// The uid and gid of user postgres (root runs the server as that user).
fn postgres_ids() -> Result<(u32, u32), String> {
    let id = |flag: &str| -> Result<u32, String> {
        let output = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .map_err(|e| format!("running id: {e}"))?;
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .map_err(|_| {
                "running as root, and PostgreSQL refuses to run as root, but there is no \
                 user postgres to run it as (Debian's postgresql package creates it)"
                    .to_string()
            })
    };
    Ok((id("-u")?, id("-g")?))
}

/// A new 0700 dir under /tmp (short: the socket path has a length limit),
/// owned by `owner` when given.
fn make_temp_dir(owner: Option<(u32, u32)>) -> Result<PathBuf, String> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = PathBuf::from(format!(
        "/tmp/corewire-upg.{}.{}.{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| format!("creating {}: {e}", dir.display()))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .map_err(|e| format!("handing {} to postgres: {e}", dir.display()))?;
    }
    Ok(dir)
}

/// Writes (or appends to) a file in the data dir, keeping it the
/// server's.
fn write_owned(
    path: &Path,
    contents: &[u8],
    append: bool,
    owner: Option<(u32, u32)>,
) -> Result<(), String> {
    use std::io::Write;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .map_err(|e| format!("opening {}: {e}", path.display()))?;
    file.write_all(contents)
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    if let Some((uid, gid)) = owner {
        if fs::metadata(path).map(|m| m.uid()).ok() != Some(uid) {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))
                .map_err(|e| format!("chown {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// A loopback port nothing listens on right now.
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

/// Runs `command` to completion within `timeout`, output into `log`
/// (a file, so a chatty child never blocks on a full pipe).
fn run_bounded(
    mut command: Command,
    what: &str,
    log: &Path,
    timeout: Duration,
) -> Result<(), String> {
    let file = File::create(log).map_err(|e| format!("creating {}: {e}", log.display()))?;
    let file2 = file
        .try_clone()
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(file2)
        .spawn()
        .map_err(|e| format!("starting {what}: {e}"))?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{what} did not finish within {timeout:?}"));
            }
            Err(e) => return Err(format!("waiting for {what}: {e}")),
        }
    };
    if status.success() {
        return Ok(());
    }
    let mut output = String::new();
    if let Ok(mut f) = File::open(log) {
        let _ = f.read_to_string(&mut output);
    }
    Err(format!("{what} failed ({status}):\n{}", output.trim_end()))
}
