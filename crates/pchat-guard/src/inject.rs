//! `pchat-guard compile`: writes a compiled rule pack into a copy of the module, so a custom
//! pack runs in every host with no host code and no Rust toolchain.
//!
//! Every section is copied unchanged except three: the memory grows by the image's pages, the
//! data section gains two active segments (the image at the old end of initial memory, and the
//! patched `PCG_BUNDLE_LOCATOR` static that points at it), and the data count follows. The
//! allocator only takes pages from `memory.grow` above the initial size, so it never touches
//! the image. The output imports nothing, like its input.

use pchat_guard_engine::image::LOCATOR_MAGIC;
use wasm_encoder::{
    ConstExpr, DataCountSection, DataSection, MemorySection, MemoryType, RawSection,
};
use wasmparser::{DataKind, ExternalKind, Operator, Parser, Payload};

const PAGE: u64 = 65536;

/// A data segment: its placement (memory index and offset; none when passive) and its bytes.
type Segment = (Option<(u32, i32)>, Vec<u8>);

/// Name of the exported global holding the locator's address.
pub const LOCATOR_EXPORT: &str = "PCG_BUNDLE_LOCATOR";

fn i32_const(expr: &wasmparser::ConstExpr<'_>) -> Option<i32> {
    let mut reader = expr.get_operators_reader();
    match reader.read().ok()? {
        Operator::I32Const { value } => Some(value),
        _ => None,
    }
}

/// Returns a copy of `module` whose locator points at `image`.
pub fn inject(module: &[u8], image: &[u8]) -> Result<Vec<u8>, String> {
    let bad = |e: wasmparser::BinaryReaderError| format!("the module does not parse: {e}");
    // Pass 1: the memory, the locator's address, and the data segments.
    let mut memory: Option<wasmparser::MemoryType> = None;
    let mut locator_global: Option<u32> = None;
    let mut globals: Vec<Option<i32>> = Vec::new();
    let mut segments: Vec<Segment> = Vec::new();
    for payload in Parser::new(0).parse_all(module) {
        match payload.map_err(bad)? {
            Payload::MemorySection(reader) => {
                for m in reader {
                    if memory.replace(m.map_err(bad)?).is_some() {
                        return Err("the module has more than one memory".to_string());
                    }
                }
            }
            Payload::GlobalSection(reader) => {
                for g in reader {
                    globals.push(i32_const(&g.map_err(bad)?.init_expr));
                }
            }
            Payload::ExportSection(reader) => {
                for e in reader {
                    let e = e.map_err(bad)?;
                    if e.name == LOCATOR_EXPORT && e.kind == ExternalKind::Global {
                        locator_global = Some(e.index);
                    }
                }
            }
            Payload::ImportSection(_) => {
                return Err("the module has imports; a pchat-guard module has none".to_string());
            }
            Payload::DataSection(reader) => {
                for d in reader {
                    let d = d.map_err(bad)?;
                    let placement = match d.kind {
                        DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => {
                            let offset = i32_const(&offset_expr)
                                .ok_or("a data segment has a non-constant offset")?;
                            Some((memory_index, offset))
                        }
                        DataKind::Passive => None,
                    };
                    segments.push((placement, d.data.to_vec()));
                }
            }
            _ => {}
        }
    }
    let memory = memory.ok_or("the module has no memory")?;
    let global = locator_global.ok_or_else(|| {
        format!("the module does not export `{LOCATOR_EXPORT}`: it cannot take a custom pack")
    })?;
    let address = globals
        .get(global as usize)
        .copied()
        .flatten()
        .ok_or("the locator's address is not a constant")? as u32;
    // The locator must be where the export says, with its magic: a guard against another module.
    let magic_found = segments.iter().any(|(placement, data)| match placement {
        Some((0, offset)) => {
            let start = address.wrapping_sub(*offset as u32) as usize;
            (*offset as u32) <= address
                && data.get(start..start + 4) == Some(&LOCATOR_MAGIC.to_le_bytes()[..])
        }
        _ => false,
    });
    if !magic_found {
        return Err(
            "the locator static has no magic: not a pchat-guard module of this version".to_string(),
        );
    }
    if memory.memory64 || memory.page_size_log2.is_some() {
        return Err("the module's memory is not a plain 32-bit memory".to_string());
    }
    let image_at = memory.initial * PAGE;
    let pages = (image.len() as u64).div_ceil(PAGE).max(1);
    let minimum = memory.initial + pages;
    if memory.maximum.is_some_and(|max| max < minimum) || minimum * PAGE > u64::from(u32::MAX) {
        return Err("the rule pack does not fit in the module's memory".to_string());
    }
    let image_len =
        u32::try_from(image.len()).map_err(|_| "the rule pack is too large".to_string())?;
    let mut locator = Vec::with_capacity(16);
    for word in [LOCATOR_MAGIC, image_at as u32, image_len, 1] {
        locator.extend_from_slice(&word.to_le_bytes());
    }

    // Pass 2: copy, rewriting memory, data count and data.
    let mut out = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.map_err(bad)?;
        match &payload {
            Payload::MemorySection(_) => {
                let mut section = MemorySection::new();
                section.memory(MemoryType {
                    minimum,
                    maximum: memory.maximum,
                    memory64: false,
                    shared: memory.shared,
                    page_size_log2: None,
                });
                out.section(&section);
            }
            Payload::DataCountSection { count, .. } => {
                out.section(&DataCountSection { count: count + 2 });
            }
            Payload::DataSection(_) => {
                let mut section = DataSection::new();
                for (placement, data) in &segments {
                    match placement {
                        Some((index, offset)) => section.active(
                            *index,
                            &ConstExpr::i32_const(*offset),
                            data.iter().copied(),
                        ),
                        None => section.passive(data.iter().copied()),
                    };
                }
                section.active(
                    0,
                    &ConstExpr::i32_const(image_at as i32),
                    image.iter().copied(),
                );
                section.active(
                    0,
                    &ConstExpr::i32_const(address as i32),
                    locator.iter().copied(),
                );
                out.section(&section);
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    let data = module.get(range).ok_or("a section is out of range")?;
                    out.section(&RawSection { id, data });
                }
            }
        }
    }
    Ok(out.finish())
}
