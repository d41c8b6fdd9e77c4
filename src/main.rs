//! The `udll` command line: parses arguments and calls one library function
//! per command. Every error ends as one line on stderr and exit code 1.

use argh::FromArgs;
use std::process::ExitCode;
use udll::Result;

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
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("udll: error: {e}");
            ExitCode::FAILURE
        }
    }
}
