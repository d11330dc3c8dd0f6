//! S3's answer to a pre-signed URL used after it expired: 403 with an XML
//! `AccessDenied` / "Request has expired" error. The body's shape is the one S3
//! sends (seen in client bug reports and SDK test fixtures): the XML
//! declaration on a line of its own, then one line with the URL's lifetime
//! (`X-Amz-Expires`), when it expired, the server's time and the request ids,
//! which S3 repeats in the `x-amz-request-id` and `x-amz-id-2` headers.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

/// The lifetime an expired answer names when the URL carries no
/// `X-Amz-Expires`: the AWS CLI's default for `aws s3 presign`.
const DEFAULT_EXPIRES_SECONDS: u64 = 3600;

/// The 403 for the `n`-th expired request, for a URL that lived `lifetime`
/// seconds (its `X-Amz-Expires`, if any) and expired at `expired_at`.
pub(super) fn answer(n: usize, lifetime: Option<&str>, expired_at: SystemTime) -> Response {
    let lifetime = lifetime
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(DEFAULT_EXPIRES_SECONDS);
    // Ids shaped like S3's (16 upper-case hex digits; a base64 host id), and
    // distinct per answer, as S3's are.
    let request_id = format!(
        "{:016X}",
        (n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    );
    let host_id = base64::engine::general_purpose::STANDARD
        .encode(format!("regpull-test-kit-object-store/{request_id}"));
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Error><Code>AccessDenied</Code><Message>Request has expired</Message>\
         <X-Amz-Expires>{lifetime}</X-Amz-Expires><Expires>{}</Expires>\
         <ServerTime>{}</ServerTime><RequestId>{request_id}</RequestId>\
         <HostId>{host_id}</HostId></Error>",
        iso8601(expired_at),
        iso8601(SystemTime::now()),
    );
    (
        StatusCode::FORBIDDEN,
        [
            ("content-type", "application/xml".to_string()),
            ("x-amz-request-id", request_id),
            ("x-amz-id-2", host_id),
        ],
        body,
    )
        .into_response()
}

/// `2024-01-31T06:43:27Z`, the form S3 gives its times in errors.
fn iso8601(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's
/// algorithm): no date crate for one timestamp in a test fixture.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn times_are_in_s3s_form() {
        let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(iso8601(at(0)), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(at(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(at(1_643_611_407)), "2022-01-31T06:43:27Z");
    }
}
