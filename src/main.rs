use clap::Parser;

fn main() {
    let cli = kprod::cli::Cli::parse();
    std::process::exit(kprod::run(cli));
}
