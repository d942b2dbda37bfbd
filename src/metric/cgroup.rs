//! The memory limit that binds this process, read from its own cgroup and every ancestor.
//!
//! A limit is rarely set at the root of the mounted cgroup hierarchy: a systemd service has
//! `MemoryMax=` on `/system.slice/<unit>.service`, a pod without a cgroup namespace sees the
//! whole hierarchy and sits in `/kubepods/…/<container>`. So the process's cgroup comes from
//! `/proc/self/cgroup`, the hierarchy's mount point (and which part of the hierarchy that
//! mount shows, for a bind-mounted sub-tree) from `/proc/self/mountinfo`, and every level from
//! that cgroup up to the mount point is read: a parent's limit binds its children too, so the
//! smallest one is the process's.
//!
//! Every path is taken under a filesystem root (`/` in production) so tests can build a fake
//! `/proc` and `/sys/fs/cgroup`. Anything missing or unreadable means "no limit known"; nothing
//! here fails or panics.

use std::fs;
use std::path::{Component, Path, PathBuf};

use super::process::parse_memory_limit;

/// Which cgroup hierarchy holds the memory controller, and the process's cgroup in it.
#[derive(Debug, PartialEq, Eq)]
enum Membership<'a> {
    /// cgroup v1: the line whose controller list names `memory`.
    V1(&'a str),
    /// cgroup v2: the `0::` line.
    V2(&'a str),
}

impl Membership<'_> {
    /// The file holding one cgroup's memory limit.
    fn limit_file(&self) -> &'static str {
        match self {
            Membership::V1(_) => "memory.limit_in_bytes",
            Membership::V2(_) => "memory.max",
        }
    }

    fn path(&self) -> &str {
        match self {
            Membership::V1(path) | Membership::V2(path) => path,
        }
    }

    /// Whether `mount` mounts this membership's hierarchy.
    fn is_mounted_by(&self, mount: &Mount) -> bool {
        match self {
            Membership::V1(_) => {
                mount.fstype == "cgroup" && mount.super_options.split(',').any(|o| o == "memory")
            }
            Membership::V2(_) => mount.fstype == "cgroup2",
        }
    }

    /// Where the hierarchy conventionally is, when `/proc/self/mountinfo` does not say.
    fn default_mount(&self) -> Mount {
        let point = match self {
            Membership::V1(_) => "/sys/fs/cgroup/memory",
            Membership::V2(_) => "/sys/fs/cgroup",
        };
        Mount {
            root: PathBuf::from("/"),
            point: PathBuf::from(point),
            fstype: String::new(),
            super_options: String::new(),
        }
    }
}

/// The process's memory-controller cgroup from `/proc/self/cgroup`
/// (`hierarchy-id:controller-list:path` lines).
///
/// A v1 `memory` line wins over the v2 `0::` line: on a hybrid system both exist, and a
/// controller is attached to one hierarchy only, so the v2 one then has no `memory.max`.
fn membership(proc_self_cgroup: &str) -> Option<Membership<'_>> {
    let mut v2 = None;
    for line in proc_self_cgroup.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if controllers.split(',').any(|c| c == "memory") {
            return Some(Membership::V1(path));
        }
        if id == "0" && controllers.is_empty() {
            v2 = Some(Membership::V2(path));
        }
    }
    v2
}

/// One line of `/proc/self/mountinfo`, the fields we use.
#[derive(Debug, PartialEq, Eq)]
struct Mount {
    /// The directory of the mounted filesystem shown at `point` (field 4): `/` for a whole
    /// cgroup hierarchy, the sub-tree's path when a runtime bind-mounts only a container's
    /// cgroup.
    root: PathBuf,
    /// Where it is mounted (field 5).
    point: PathBuf,
    fstype: String,
    super_options: String,
}

/// Parses `id parent major:minor root point options [optional…] - fstype source super-options`.
fn parse_mount(line: &str) -> Option<Mount> {
    let fields: Vec<&str> = line.split(' ').collect();
    // The optional fields vary in number; a lone `-` ends them.
    let dash = fields.iter().position(|f| *f == "-")?;
    if dash < 6 {
        return None;
    }
    Some(Mount {
        root: PathBuf::from(unescape(fields[3])),
        point: PathBuf::from(unescape(fields[4])),
        fstype: fields.get(dash + 1)?.to_string(),
        super_options: fields.get(dash + 3).unwrap_or(&"").to_string(),
    })
}

/// Undoes mountinfo's octal escapes (`\040` for a space, `\011` tab, `\012` newline, `\134`
/// backslash), which keep each line's fields separable.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            let d: Vec<u8> = d.iter().map(|b| b.wrapping_sub(b'0')).collect();
            d.iter().all(|&v| v < 8).then(|| {
                u8::try_from(u32::from(d[0]) * 64 + u32::from(d[1]) * 8 + u32::from(d[2])).ok()
            })?
        });
        match (bytes[i], octal) {
            (b'\\', Some(c)) => {
                out.push(c);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `path` relative to `base` when it is `base` or below it, with no `..` to climb out of it.
fn below(path: &Path, base: &Path) -> Option<PathBuf> {
    let rel = path.strip_prefix(base).ok()?;
    rel.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| rel.to_path_buf())
}

/// The memory limit of the process whose `/proc/self` and cgroup filesystems are under
/// `root`: the smallest limit set on its cgroup or any ancestor visible through the mount, or
/// `None` when none is set (`max`, v1's huge "unlimited" value) or nothing can be read.
pub(crate) fn memory_limit(root: &Path) -> Option<u64> {
    let under_root = |p: &Path| root.join(p.strip_prefix("/").unwrap_or(p));
    let cgroups = fs::read_to_string(under_root(Path::new("/proc/self/cgroup"))).ok()?;
    let membership = membership(&cgroups)?;
    let cgroup = Path::new(membership.path());
    let mountinfo =
        fs::read_to_string(under_root(Path::new("/proc/self/mountinfo"))).unwrap_or_default();
    // The mount showing the part of the hierarchy our cgroup is in. A cgroup outside every
    // mount (possible across cgroup namespaces: `/../sibling`) has no ancestor we can read.
    let (point, rel) = mountinfo
        .lines()
        .filter_map(parse_mount)
        .filter(|m| membership.is_mounted_by(m))
        .chain(std::iter::once(membership.default_mount()))
        .find_map(|m| Some((under_root(&m.point), below(cgroup, &m.root)?)))?;
    let mut dir = point.join(rel);
    let mut smallest: Option<u64> = None;
    loop {
        let limit = fs::read_to_string(dir.join(membership.limit_file()))
            .ok()
            .and_then(|text| parse_memory_limit(&text));
        smallest = match (smallest, limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if dir == point || !dir.pop() {
            return smallest;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    const MIB: u64 = 1024 * 1024;
    /// What v1 `memory.limit_in_bytes` says when no limit is set (on 4 KiB pages).
    const V1_UNLIMITED: &str = "9223372036854771712\n";

    /// A fake filesystem root in the temp directory, removed when dropped.
    struct FakeRoot(PathBuf);

    impl FakeRoot {
        fn new() -> Self {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "stethoscope-cgroup-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            FakeRoot(dir)
        }

        fn write(&self, path: &str, text: &str) -> &Self {
            let path = self.0.join(path.trim_start_matches('/'));
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
            self
        }

        fn limit(&self) -> Option<u64> {
            memory_limit(&self.0)
        }
    }

    impl Drop for FakeRoot {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    const V2_MOUNTINFO: &str =
        "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
    const V1_MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:12 - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const SERVICE: &str = "/system.slice/indexer.service";

    fn v2_service() -> FakeRoot {
        let root = FakeRoot::new();
        root.write("/proc/self/cgroup", &format!("0::{SERVICE}\n"))
            .write("/proc/self/mountinfo", V2_MOUNTINFO);
        root
    }

    fn v1_service() -> FakeRoot {
        let root = FakeRoot::new();
        root.write(
            "/proc/self/cgroup",
            &format!("5:memory:{SERVICE}\n3:cpu,cpuacct:{SERVICE}\n1:name=systemd:{SERVICE}\n0::{SERVICE}\n"),
        )
        .write("/proc/self/mountinfo", V1_MOUNTINFO)
        .write("/sys/fs/cgroup/memory/memory.limit_in_bytes", V1_UNLIMITED);
        root
    }

    #[test]
    fn v2_limit_on_the_process_cgroup() {
        let root = v2_service();
        root.write("/sys/fs/cgroup/system.slice/memory.max", "max\n")
            .write(
                &format!("/sys/fs/cgroup{SERVICE}/memory.max"),
                &format!("{}\n", 512 * MIB),
            );
        assert_eq!(root.limit(), Some(512 * MIB));
    }

    #[test]
    fn v2_limit_on_a_parent_binds_the_child() {
        let root = v2_service();
        root.write(
            "/sys/fs/cgroup/system.slice/memory.max",
            &format!("{}\n", 256 * MIB),
        )
        .write(&format!("/sys/fs/cgroup{SERVICE}/memory.max"), "max\n");
        assert_eq!(root.limit(), Some(256 * MIB));
    }

    #[test]
    fn the_smallest_limit_on_the_way_up_wins() {
        let root = v2_service();
        root.write(
            "/sys/fs/cgroup/system.slice/memory.max",
            &format!("{}\n", 256 * MIB),
        )
        .write(
            &format!("/sys/fs/cgroup{SERVICE}/memory.max"),
            &format!("{}\n", 1024 * MIB),
        );
        assert_eq!(root.limit(), Some(256 * MIB));
        let root = v2_service();
        root.write(
            "/sys/fs/cgroup/system.slice/memory.max",
            &format!("{}\n", 1024 * MIB),
        )
        .write(
            &format!("/sys/fs/cgroup{SERVICE}/memory.max"),
            &format!("{}\n", 256 * MIB),
        );
        assert_eq!(root.limit(), Some(256 * MIB));
    }

    #[test]
    fn v2_unlimited_everywhere_is_no_limit() {
        let root = v2_service();
        root.write("/sys/fs/cgroup/system.slice/memory.max", "max\n")
            .write(&format!("/sys/fs/cgroup{SERVICE}/memory.max"), "max\n");
        assert_eq!(root.limit(), None);
    }

    #[test]
    fn v2_limit_at_the_namespace_root() {
        // A container with its own cgroup namespace: it is at `/` of what it sees.
        let root = FakeRoot::new();
        root.write("/proc/self/cgroup", "0::/\n")
            .write("/proc/self/mountinfo", V2_MOUNTINFO)
            .write("/sys/fs/cgroup/memory.max", &format!("{}\n", 300 * MIB));
        assert_eq!(root.limit(), Some(300 * MIB));
    }

    #[test]
    fn v2_without_mountinfo_uses_the_conventional_mount_point() {
        let root = FakeRoot::new();
        root.write("/proc/self/cgroup", &format!("0::{SERVICE}\n"))
            .write(
                "/sys/fs/cgroup/system.slice/memory.max",
                &format!("{}\n", 64 * MIB),
            );
        assert_eq!(root.limit(), Some(64 * MIB));
    }

    #[test]
    fn v1_limit_on_the_process_cgroup() {
        let root = v1_service();
        root.write(
            &format!("/sys/fs/cgroup/memory{SERVICE}/memory.limit_in_bytes"),
            &format!("{}\n", 512 * MIB),
        )
        .write(
            "/sys/fs/cgroup/memory/system.slice/memory.limit_in_bytes",
            V1_UNLIMITED,
        );
        assert_eq!(root.limit(), Some(512 * MIB));
    }

    #[test]
    fn v1_limit_on_a_parent_binds_the_child() {
        let root = v1_service();
        root.write(
            &format!("/sys/fs/cgroup/memory{SERVICE}/memory.limit_in_bytes"),
            V1_UNLIMITED,
        )
        .write(
            "/sys/fs/cgroup/memory/system.slice/memory.limit_in_bytes",
            &format!("{}\n", 128 * MIB),
        );
        assert_eq!(root.limit(), Some(128 * MIB));
    }

    #[test]
    fn v1_unlimited_everywhere_is_no_limit() {
        let root = v1_service();
        root.write(
            &format!("/sys/fs/cgroup/memory{SERVICE}/memory.limit_in_bytes"),
            V1_UNLIMITED,
        )
        .write(
            "/sys/fs/cgroup/memory/system.slice/memory.limit_in_bytes",
            V1_UNLIMITED,
        );
        assert_eq!(root.limit(), None);
    }

    #[test]
    fn v1_wins_over_the_unified_hierarchy_on_a_hybrid_system() {
        let root = v1_service();
        root.write(
            "/sys/fs/cgroup/memory/system.slice/memory.limit_in_bytes",
            &format!("{}\n", 128 * MIB),
        )
        // The unified hierarchy has no memory controller; a stray file there is not read.
        .write(
            &format!("/sys/fs/cgroup/unified{SERVICE}/memory.max"),
            &format!("{MIB}\n"),
        );
        assert_eq!(root.limit(), Some(128 * MIB));
    }

    #[test]
    fn v1_bind_mounted_container_cgroup_is_read_at_the_mount_point() {
        // A container without a cgroup namespace: `/proc/self/cgroup` shows the host path, and
        // the runtime mounted only that sub-tree at /sys/fs/cgroup/memory (mount root field).
        let pod = "/kubepods/burstable/pod1234/abcdef";
        let root = FakeRoot::new();
        root.write("/proc/self/cgroup", &format!("7:memory:{pod}\n"))
            .write(
                "/proc/self/mountinfo",
                &format!(
                    "1210 1200 0:32 {pod} /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime master:12 - cgroup cgroup rw,memory\n"
                ),
            )
            .write(
                "/sys/fs/cgroup/memory/memory.limit_in_bytes",
                &format!("{}\n", 200 * MIB),
            );
        assert_eq!(root.limit(), Some(200 * MIB));
    }

    #[test]
    fn v2_bind_mounted_sub_tree_walks_up_to_its_mount_point_only() {
        // Mounted sub-tree `/system.slice`; our cgroup is one level below it. Files that a
        // host path would name outside the mount are not looked for.
        let root = FakeRoot::new();
        root.write("/proc/self/cgroup", &format!("0::{SERVICE}\n"))
            .write(
                "/proc/self/mountinfo",
                "40 30 0:26 /system.slice /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
            )
            .write("/sys/fs/cgroup/memory.max", &format!("{}\n", 96 * MIB))
            .write("/sys/fs/cgroup/indexer.service/memory.max", "max\n");
        assert_eq!(root.limit(), Some(96 * MIB));
    }

    #[test]
    fn a_mount_point_with_an_escaped_space_is_found() {
        let root = FakeRoot::new();
        root.write("/proc/self/cgroup", "0::/app\n")
            .write(
                "/proc/self/mountinfo",
                "30 23 0:26 / /cg\\040root rw - cgroup2 cgroup2 rw\n",
            )
            .write("/cg root/app/memory.max", &format!("{}\n", 10 * MIB));
        assert_eq!(root.limit(), Some(10 * MIB));
    }

    #[test]
    fn missing_files_mean_no_limit() {
        let root = FakeRoot::new();
        assert_eq!(root.limit(), None, "no /proc/self/cgroup");
        root.write("/proc/self/cgroup", &format!("0::{SERVICE}\n"));
        assert_eq!(root.limit(), None, "no cgroup filesystem");
        root.write("/proc/self/mountinfo", V2_MOUNTINFO);
        assert_eq!(root.limit(), None, "no memory.max files");
        root.write(
            &format!("/sys/fs/cgroup{SERVICE}/memory.max"),
            "not a number\n",
        );
        assert_eq!(root.limit(), None, "an unreadable value");
    }

    #[test]
    fn a_cgroup_outside_the_mounted_tree_has_no_limit_we_can_read() {
        // Across cgroup namespaces a path can climb above the namespace root; it must never
        // lead the walk outside the mount.
        let root = FakeRoot::new();
        root.write("/proc/self/cgroup", "0::/../sibling\n")
            .write("/proc/self/mountinfo", V2_MOUNTINFO)
            .write("/sys/fs/cgroup/memory.max", &format!("{MIB}\n"))
            .write("/sys/fs/sibling/memory.max", &format!("{MIB}\n"));
        assert_eq!(root.limit(), None);
    }

    #[test]
    fn garbage_in_proc_files_is_ignored() {
        assert_eq!(
            membership("nonsense\n\n::\n0::/a\n"),
            Some(Membership::V2("/a"))
        );
        assert_eq!(membership("12:memory\n"), None);
        assert_eq!(parse_mount("30 23 0:26 / /sys/fs/cgroup"), None);
        assert_eq!(parse_mount("- cgroup2"), None);
        assert_eq!(unescape("a\\040b\\\\c\\9"), "a b\\\\c\\9");
        assert_eq!(unescape("\\777"), "\\777", "out of byte range: kept as is");
    }
}
