//! One table per family of stable codes (the engine's `PCG-*`, the compiler's `PCL*`): each
//! row gives a code's variant, its text, its one-line meaning and its properties, so a new code
//! is one line and no list of codes is kept by hand.

/// Defines a code enum from one table: `pub enum Name: Props { Variant = "TEXT", "meaning",
/// props; ... }`, with `ALL`, `as_str`, `summary`, `props` and `from_text`.
#[macro_export]
macro_rules! code_table {
    (
        $(#[$enum_doc:meta])*
        pub enum $name:ident: $props:ty {
            $($(#[$doc:meta])* $variant:ident = $text:literal, $summary:literal, $prop:expr;)*
        }
    ) => {
        $(#[$enum_doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$doc])* $variant,)*
        }

        impl $name {
            /// Every code, in documentation order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The code as reports and diagnostics show it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// What the code means, in a few words.
            pub fn summary(self) -> &'static str {
                match self {
                    $($name::$variant => $summary,)*
                }
            }

            /// The code's properties, from its row of the table.
            pub fn props(self) -> $props {
                match self {
                    $($name::$variant => $prop,)*
                }
            }

            /// The code with this text.
            pub fn from_text(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|c| c.as_str() == text)
            }
        }
    };
}
