//! Where everything goes on screen: one pure function of the terminal size
//! and a few state flags, used both to draw and to map mouse clicks.

use ratatui::layout::Rect;

/// At or above this width the detail pane sits beside the list.
pub const WIDE: u16 = 120;
/// Rows of the usage strip.
pub const USAGE_ROWS: u16 = 2;

/// The top-level screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Screen {
    #[default]
    Traffic,
    Sessions,
    Library,
}

/// What the layout depends on besides the size.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inputs {
    pub screen: Screen,
    /// The detail pane fills the body (narrow Enter, or a turn opened from Sessions).
    pub detail_full: bool,
    /// The shown exchange is LLM traffic (the usage strip takes rows).
    pub usage: bool,
    /// Rows taken above the status bar by a text field's error line.
    pub input_error: bool,
}

/// The detail pane's parts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetailAreas {
    pub head: Rect,
    pub usage: Option<Rect>,
    pub tabs: Rect,
    pub doc: Rect,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Areas {
    pub title: Rect,
    /// The traffic list, header row included.
    pub list: Option<Rect>,
    /// The column between list and detail.
    pub divider: Option<Rect>,
    pub detail: Option<DetailAreas>,
    /// The Sessions or Library screen body.
    pub body: Rect,
    pub input_error: Option<Rect>,
    pub status: Rect,
}

impl Areas {
    pub fn compute(size: Rect, inp: Inputs) -> Areas {
        let title = Rect {
            height: 1.min(size.height),
            ..size
        };
        let status_y = size.bottom().saturating_sub(1);
        let status = Rect::new(size.x, status_y, size.width, 1.min(size.height));
        let mut body_bottom = status_y;
        let input_error = (inp.input_error && size.height > 4).then(|| {
            body_bottom -= 1;
            Rect::new(size.x, body_bottom, size.width, 1)
        });
        let top = size.y + title.height;
        let body = Rect::new(size.x, top, size.width, body_bottom.saturating_sub(top));
        let mut areas = Areas {
            title,
            body,
            input_error,
            status,
            ..Areas::default()
        };
        match inp.screen {
            _ if inp.detail_full => areas.detail = Some(detail(body, inp.usage)),
            Screen::Traffic if size.width >= WIDE => areas.split(body, inp.usage),
            Screen::Traffic => areas.list = Some(body),
            Screen::Sessions | Screen::Library => {}
        }
        areas
    }

    fn split(&mut self, body: Rect, usage: bool) {
        let list_w = body.width * 11 / 20;
        self.list = Some(Rect {
            width: list_w,
            ..body
        });
        self.divider = Some(Rect::new(body.x + list_w, body.y, 1, body.height));
        let detail_x = body.x + list_w + 1;
        let rest = Rect::new(
            detail_x,
            body.y,
            body.right().saturating_sub(detail_x),
            body.height,
        );
        self.detail = Some(detail(rest, usage));
    }

    /// Rows of the traffic list available for exchanges (header excluded).
    pub fn list_rows(&self) -> usize {
        self.list
            .map_or(0, |r| usize::from(r.height.saturating_sub(1)))
    }
}

fn detail(area: Rect, usage: bool) -> DetailAreas {
    let mut y = area.y;
    let mut take = |rows: u16| {
        let rows = rows.min(area.bottom().saturating_sub(y));
        let r = Rect::new(area.x, y, area.width, rows);
        y += rows;
        r
    };
    let head = take(1);
    let usage = usage.then(|| take(USAGE_ROWS));
    let tabs = take(1);
    let doc = take(u16::MAX);
    DetailAreas {
        head,
        usage,
        tabs,
        doc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_traffic_splits_and_narrow_does_not() {
        let wide = Areas::compute(Rect::new(0, 0, 160, 48), Inputs::default());
        assert_eq!(wide.list, Some(Rect::new(0, 1, 88, 46)));
        let d = wide.detail.expect("detail beside the list");
        assert_eq!(d.head, Rect::new(89, 1, 71, 1));
        assert_eq!(d.doc, Rect::new(89, 3, 71, 44));
        let narrow = Areas::compute(Rect::new(0, 0, 80, 24), Inputs::default());
        assert_eq!(narrow.list, Some(Rect::new(0, 1, 80, 22)));
        assert!(narrow.detail.is_none());
        assert_eq!(narrow.list_rows(), 21);
    }

    #[test]
    fn full_detail_with_usage_and_error_line() {
        let inp = Inputs {
            detail_full: true,
            usage: true,
            input_error: true,
            ..Inputs::default()
        };
        let a = Areas::compute(Rect::new(0, 0, 80, 24), inp);
        let d = a.detail.expect("detail");
        assert_eq!(d.usage, Some(Rect::new(0, 2, 80, 2)));
        assert_eq!(d.doc, Rect::new(0, 5, 80, 17));
        assert_eq!(a.input_error, Some(Rect::new(0, 22, 80, 1)));
    }
}
