//! The `udll` command line: parses arguments and calls one library function
//! per command. Every error ends as one line on stderr and exit code 1.

use argh::FromArgs;
use std::process::ExitCode;
use udll::Result;
use udll::cli_support::configure_threads;

mod commands;

#[derive(FromArgs)]
/// udll — unsupervised deep local learning on the CPU: convolutional
/// autoencoders, a prior affinity graph, self-expressive fine-tuning and
/// spectral clustering, bit-reproducible from a seed.
struct Cli {
    #[argh(subcommand)]
    command: Command,
}

#[derive(FromArgs)]
#[argh(subcommand)]
enum Command {
    Run(commands::RunArgs),
    Info(commands::InfoArgs),
    Pretrain(commands::PretrainArgs),
    Embed(commands::EmbedArgs),
    Graph(commands::GraphArgs),
    Finetune(commands::FinetuneArgs),
    Cluster(commands::ClusterArgs),
    Audit(commands::AuditArgs),
    Eval(commands::EvalArgs),
    Reproduce(commands::ReproduceArgs),
    Ae(commands::AeArgs),
    Compare(commands::CompareArgs),
}

impl Command {
    /// The pool size asked for by `--threads`, for the commands that have it
    /// (audit's `--threads` is a list of counts for its re-runs).
    fn threads(&self) -> Option<usize> {
        match self {
            Command::Run(a) => a.threads,
            Command::Pretrain(a) => a.threads,
            Command::Embed(a) => a.threads,
            Command::Graph(a) => a.threads,
            Command::Finetune(a) => a.threads,
            Command::Cluster(a) => a.threads,
            Command::Eval(a) => a.threads,
            Command::Reproduce(a) => a.threads,
            Command::Ae(a) => a.threads,
            Command::Compare(a) => a.threads,
            Command::Info(_) | Command::Audit(_) => None,
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Info(a) => commands::info(a),
        Command::Pretrain(a) => commands::pretrain(a),
        Command::Embed(a) => commands::embed(a),
        Command::Run(a) => commands::run(a),
        Command::Cluster(a) => commands::cluster(a),
        Command::Graph(a) => commands::graph(a),
        Command::Finetune(a) => commands::finetune(a),
        Command::Audit(a) => commands::audit(a),
        Command::Eval(a) => commands::eval(a),
        Command::Reproduce(a) => commands::reproduce(a),
        Command::Ae(a) => commands::ae(a),
        Command::Compare(a) => commands::compare(a),
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

fn main() -> ExitCode {
    keep_freed_memory();
    let cli: Cli = argh::from_env();
    // The command runs on a pool thread, so each of its parallel steps
    // starts inside the pool instead of being handed over and waited for
    // (with one thread that hand-over cost a third of pretraining's time).
    let result = configure_threads(cli.command.threads()).and_then(|_| rayon::scope(|_| run(cli)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("udll: error: {e}");
            ExitCode::FAILURE
        }
    }
}
