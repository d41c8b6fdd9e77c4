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

fn main() -> ExitCode {
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
