fn main() {
    std::process::exit(dwarfksyms::cli::main());
}
