//! The `udll` command line: parses arguments and calls one library function
//! per command. Every error ends as one line on stderr and exit code 1.

use argh::FromArgs;
use std::process::ExitCode;
use udll::{Result, UdllError};

mod commands;

#[derive(FromArgs)]
/// udll — unsupervised deep local learning on the CPU: convolutional
/// autoencoders, a prior affinity graph, self-expressive fine-tuning and
/// spectral clustering, bit-reproducible from a seed.
struct Cli {
    /// print the version (and the git commit it was built from) and exit
    #[argh(switch)]
    version: bool,
    #[argh(subcommand)]
    command: Option<Command>,
}

#[derive(FromArgs)]
#[argh(subcommand)]
enum Command {
    Run(commands::RunArgs),
    Info(commands::InfoArgs),
    Pretrain(commands::PretrainArgs),
    Embed(commands::EmbedArgs),
    Features(commands::FeaturesArgs),
    Graph(commands::GraphArgs),
    Finetune(commands::FinetuneArgs),
    Cluster(commands::ClusterArgs),
    Audit(commands::AuditArgs),
    Eval(commands::EvalArgs),
    Reproduce(commands::ReproduceArgs),
    Ae(commands::AeArgs),
    Compare(commands::CompareArgs),
    Report(commands::ReportArgs),
    Assign(commands::AssignArgs),
    Merge(commands::MergeArgs),
    Synth(commands::SynthArgs),
}

impl Command {
    /// The pool size asked for by `--threads`, for the commands that have it
    /// (audit's `--threads` is a list of counts for its re-runs).
    fn threads(&self) -> Option<usize> {
        match self {
            Command::Run(a) => a.threads,
            Command::Pretrain(a) => a.threads,
            Command::Embed(a) => a.threads,
            Command::Features(a) => a.threads,
            Command::Graph(a) => a.threads,
            Command::Finetune(a) => a.threads,
            Command::Cluster(a) => a.threads,
            Command::Eval(a) => a.threads,
            Command::Reproduce(a) => a.threads,
            Command::Ae(a) => a.threads,
            Command::Compare(a) => a.threads,
            Command::Assign(a) => a.threads,
            Command::Merge(a) => a.threads,
            Command::Info(_) | Command::Audit(_) | Command::Report(_) | Command::Synth(_) => None,
        }
    }

    /// The kernel family asked for by `--cpu-kernels`.
    fn cpu_kernels(&self) -> Option<&str> {
        match self {
            Command::Run(a) => a.cpu_kernels.as_deref(),
            Command::Pretrain(a) => a.cpu_kernels.as_deref(),
            Command::Embed(a) => a.cpu_kernels.as_deref(),
            Command::Features(a) => a.cpu_kernels.as_deref(),
            Command::Graph(a) => a.cpu_kernels.as_deref(),
            Command::Finetune(a) => a.cpu_kernels.as_deref(),
            Command::Cluster(a) => a.cpu_kernels.as_deref(),
            Command::Eval(a) => a.cpu_kernels.as_deref(),
            Command::Reproduce(a) => a.cpu_kernels.as_deref(),
            Command::Ae(a) => a.cpu_kernels.as_deref(),
            Command::Compare(a) => a.cpu_kernels.as_deref(),
            Command::Assign(a) => a.cpu_kernels.as_deref(),
            Command::Merge(a) => a.cpu_kernels.as_deref(),
            Command::Info(_) | Command::Audit(_) | Command::Report(_) | Command::Synth(_) => None,
        }
    }
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Info(a) => commands::info(a),
        Command::Pretrain(a) => commands::pretrain(a),
        Command::Embed(a) => commands::embed(a),
        Command::Features(a) => commands::features(a),
        Command::Run(a) => commands::run(a),
        Command::Cluster(a) => commands::cluster(a),
        Command::Graph(a) => commands::graph(a),
        Command::Finetune(a) => commands::finetune(a),
        Command::Audit(a) => commands::audit(a),
        Command::Eval(a) => commands::eval(a),
        Command::Reproduce(a) => commands::reproduce(a),
        Command::Ae(a) => commands::ae(a),
        Command::Compare(a) => commands::compare(a),
        Command::Report(a) => commands::report(a),
        Command::Assign(a) => commands::assign(a),
        Command::Merge(a) => commands::merge(a),
        Command::Synth(a) => commands::synth(a),
    }
}

/// glibc's malloc gives large freed blocks back to the kernel (blocks above
/// its mmap threshold, trimmed heap tops, emptied per-thread heaps), so
/// fine-tuning's per-epoch buffers (n × d f32, 22 MB each on COIL-20) were
/// faulted in and zeroed by the kernel again every epoch: 526 k page faults
/// in a 30-epoch COIL-20 fine-tuning, 68 k with this, and system time
/// 2.1 / 2.0 s → 0.8 / 1.3 s. One arena, no trimming, and mmap only above
/// 32 MB (glibc's ceiling for that threshold) keep freed memory for reuse;
/// the peak RSS does not grow (BENCHMARKS.md). Allocation never changes a
/// result's bits.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    use std::ffi::c_int;
    unsafe extern "C" {
        fn mallopt(param: c_int, value: c_int) -> c_int;
    }
    const M_TRIM_THRESHOLD: c_int = -1;
    const M_MMAP_THRESHOLD: c_int = -3;
    const M_ARENA_MAX: c_int = -8;
    // SAFETY: mallopt only sets allocator parameters; it is called before
    // any other thread exists. A refused setting (return 0) leaves glibc's
    // default, which is only slower.
    unsafe {
        mallopt(M_ARENA_MAX, 1);
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        mallopt(M_TRIM_THRESHOLD, c_int::MAX);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}

/// One knob for both thread pools (rayon's and matrixmultiply's own).
/// `None` keeps RAYON_NUM_THREADS or the core count. Results do not depend
/// on this number; speed does. matrixmultiply reads its count from the
/// environment only, so this sets MATMUL_NUM_THREADS: it runs first in
/// `main`, before any other thread exists, which is what makes `set_var`
/// sound here (and why it is not a library function).
fn configure_threads(threads: Option<usize>) -> Result<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // More threads than cores only adds hand-overs (2000 made an epoch 1000×
    // slower); the results are the same for any count, so cap it.
    let most = 4 * cores.max(1);
    let n = match threads {
        Some(0) => return Err(UdllError::config("--threads must be at least 1")),
        Some(t) if t > most => {
            eprintln!("udll: warning: --threads {t} is more than 4 × this machine's {cores} cores; using {most}");
            most
        }
        Some(t) => t,
        None => std::env::var("RAYON_NUM_THREADS").ok().and_then(|s| s.parse().ok()).filter(|&t| t > 0).unwrap_or(cores),
    };
    if std::env::var_os("MATMUL_NUM_THREADS").is_none() || threads.is_some() {
        // SAFETY: called from `main` before any other thread is started (the
        // rayon pool is built just below), so nothing reads the environment
        // concurrently.
        unsafe { std::env::set_var("MATMUL_NUM_THREADS", n.to_string()) };
    }
    rayon::ThreadPoolBuilder::new().num_threads(n).build_global().map_err(|e| UdllError::config(format!("the thread pool: {e}")))?;
    Ok(n)
}

/// Choose the GEMM kernel family (`--cpu-kernels`; default: the fastest
/// this CPU has).
fn configure_kernels(asked: Option<&str>) -> Result<()> {
    let family = udll::kernels::KernelFamily::parse(asked.unwrap_or("auto"))?;
    udll::kernels::set_family(family)
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli: Cli = argh::from_env();
    let command = match (cli.version, cli.command) {
        (true, _) => {
            let commit = udll::io::manifest::git_commit().map(|c| format!(" (commit {c})")).unwrap_or_default();
            println!("udll {}{commit}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        (false, Some(c)) => c,
        (false, None) => {
            eprintln!("udll: error: no command given; see `udll --help`");
            return ExitCode::FAILURE;
        }
    };
    // The command runs on a pool thread, so each of its parallel steps
    // starts inside the pool instead of being handed over and waited for
    // (with one thread that hand-over cost a third of pretraining's time).
    let result = configure_threads(command.threads()).and_then(|_| configure_kernels(command.cpu_kernels())).and_then(|_| rayon::scope(|_| run(command)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("udll: error: {e}");
            ExitCode::FAILURE
        }
    }
}
