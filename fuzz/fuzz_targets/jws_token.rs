//! A web identity token (compact JWS) verified against a key ring of both families (RSA and
//! P-256), both as a stranger's token and as one this process signed (the signature check
//! skipped), and a session token opened.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tegata_core::master_key::MasterKey;
use tegata_core::random::SeededRandomness;
use tegata_core::sts::credentials::CredentialMinter;
use tegata_core::tokens::keys::{
    KeyRing, KeyState, SigningKey, TokenAlgorithm, generate_signing_key,
};
use tegata_core::tokens::recently_signed::RecentlySigned;
use tegata_core::tokens::verify::verify;

static KEYS: LazyLock<(KeyRing, CredentialMinter)> = LazyLock::new(|| {
    let rng = SeededRandomness::new(1);
    let master = MasterKey::generate(&rng);
    let keys = [TokenAlgorithm::Rs512, TokenAlgorithm::Es256].map(|algorithm| {
        let record =
            generate_signing_key(&master, algorithm, KeyState::Active, 0, &rng).expect("a key");
        SigningKey::load(&record, &master).expect("a loaded key")
    });
    (KeyRing::new(keys.into()), CredentialMinter::new(&master))
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (ring, minter) = &*KEYS;
    let issuer = "https://tokens.example.com";
    let recent = RecentlySigned::default();
    let _ = verify(&text, ring, issuer, 0, &recent);
    recent.remember(&text);
    let _ = verify(&text, ring, issuer, 0, &recent);
    let _ = minter.open("ASIAAAAAAAAAAAAAAAAA", &text);
});
