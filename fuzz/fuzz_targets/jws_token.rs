//! A web identity token (compact JWS) verified against a key ring, and a session token opened.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tegata_core::master_key::MasterKey;
use tegata_core::random::SeededRandomness;
use tegata_core::sts::credentials::CredentialMinter;
use tegata_core::tokens::keys::{KeyRing, KeyState, SigningKey, generate_signing_key};
use tegata_core::tokens::verify::verify;

static KEYS: LazyLock<(KeyRing, CredentialMinter)> = LazyLock::new(|| {
    let rng = SeededRandomness::new(1);
    let master = MasterKey::generate(&rng);
    let record = generate_signing_key(&master, KeyState::Active, 0, &rng).expect("a key");
    let key = SigningKey::load(&record, &master).expect("a loaded key");
    (KeyRing::new(vec![key]), CredentialMinter::new(&master))
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (ring, minter) = &*KEYS;
    let _ = verify(&text, ring, "https://tokens.example.com", 0);
    let _ = minter.open("ASIAAAAAAAAAAAAAAAAA", &text);
});
