fn main() {
    std::process::exit(dwarfksyms::dropin::main());
}
