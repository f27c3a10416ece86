//! Progress on stderr for long work: a spinner with a message, drawn only when it was
//! asked for (stderr is a terminal, no `--quiet`) and once the work has taken longer
//! than a delay, so that quick scans print nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long work runs silently before its progress is shown.
pub const DELAY: Duration = Duration::from_secs(1);

/// A progress display that appears after [`DELAY`].
pub struct Progress {
    bar: ProgressBar,
    /// Where to draw once shown; `None` when no display was asked for.
    target: Option<fn() -> ProgressDrawTarget>,
    started: Instant,
    delay: Duration,
    shown: AtomicBool,
}

impl Progress {
    /// Progress on stderr when `enabled`, else none at all.
    pub fn on_stderr(enabled: bool) -> Self {
        Self::drawn_to(enabled.then_some(ProgressDrawTarget::stderr as fn() -> ProgressDrawTarget), DELAY)
    }

    /// Progress drawn to `target` once `delay` has passed.
    pub fn drawn_to(target: Option<fn() -> ProgressDrawTarget>, delay: Duration) -> Self {
        let bar = ProgressBar::hidden();
        bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("a valid template"));
        Self { bar, target, started: Instant::now(), delay, shown: AtomicBool::new(false) }
    }

    /// Tells what is happening now; the display appears once the delay has passed.
    pub fn say(&self, message: impl Into<String>) {
        let Some(target) = self.target else { return };
        if !self.shown.load(Ordering::Relaxed) {
            if self.started.elapsed() < self.delay || self.shown.swap(true, Ordering::Relaxed) {
                return;
            }
            self.bar.set_draw_target(target());
            self.bar.enable_steady_tick(Duration::from_millis(120));
        }
        self.bar.set_message(message.into());
    }

    /// Clears the display.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex, OnceLock};

    use indicatif::TermLike;

    use super::*;

    /// A terminal that records what is written to it.
    #[derive(Debug, Default, Clone)]
    struct Recorder(Arc<Mutex<String>>);

    impl TermLike for Recorder {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, line: &str) -> std::io::Result<()> {
            self.write_str(line)
        }
        fn write_str(&self, text: &str) -> std::io::Result<()> {
            self.0.lock().expect("not poisoned").push_str(text);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn recorder() -> &'static Recorder {
        static RECORDER: OnceLock<Recorder> = OnceLock::new();
        RECORDER.get_or_init(Recorder::default)
    }

    fn recording() -> ProgressDrawTarget {
        ProgressDrawTarget::term_like(Box::new(recorder().clone()))
    }

    #[test]
    fn progress_appears_only_after_its_delay_and_only_when_asked_for() {
        // Quick work (a delay not yet over) and no display asked for: nothing drawn.
        let quick = Progress::drawn_to(Some(recording), Duration::from_secs(3600));
        quick.say("documents read: 10");
        let unwanted = Progress::drawn_to(None, Duration::ZERO);
        unwanted.say("documents read: 20");
        drop((quick, unwanted));
        assert_eq!(*recorder().0.lock().expect("not poisoned"), "");
        // Long work: the message is drawn.
        let long = Progress::drawn_to(Some(recording), Duration::ZERO);
        long.say("documents read: 30");
        long.bar.tick();
        assert!(recorder().0.lock().expect("not poisoned").contains("documents read: 30"));
    }
}
