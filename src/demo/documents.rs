//! The demo's documents: tender documents (招标文件) and bid files (投标文件) in Chinese, written
//! with the platform's own PDF writer (embedded CJK font), so that a newcomer who downloads one
//! reads what such a document holds.

use crate::{
    error::{AppError, AppResult},
    pdf::writer::Document,
};

/// A tender document for `title` with its lots (name, budget as shown), in the chapters a
/// Chinese tender document has.
pub fn tender_document(title: &str, method: &str, lots: &[(&str, &str)]) -> AppResult<Vec<u8>> {
    let mut d = Document::new(title);
    d.footer(&format!("{title} · 招标文件（演示）"));
    d.heading("第一章 招标公告");
    d.paragraph(&format!(
        "本项目采用{method}方式，通过电子交易平台进行网上投标和不见面开标。投标人应在投标截止时间前\
         通过平台提交加密的电子投标文件，逾期送达或未加密的投标文件将被拒收。"
    ));
    let rows: Vec<Vec<String>> = lots
        .iter()
        .enumerate()
        .map(|(i, (name, budget))| vec![format!("{}", i + 1), name.to_string(), budget.to_string()])
        .collect();
    d.table(&["包号", "采购内容", "预算金额（元）"], &rows, &[0.12, 0.58, 0.30]);
    d.heading("第二章 投标人须知");
    d.paragraph(
        "1. 投标人应具备《中华人民共和国政府采购法》第二十二条规定的条件。\n\
         2. 投标文件由投标人在本地使用投标密钥加密，开标前任何人（包括平台运营方）均无法读取。\n\
         3. 开标时投标人须在解密时限内远程解密本单位的投标文件；未按时解密的，视为解密失败。\n\
         4. 投标人对开标过程有异议的，应在开标现场（网上开标大厅）提出，由主持人当场答复。",
    );
    d.heading("第三章 采购需求");
    for (name, _) in lots {
        d.paragraph(&format!(
            "{name}：货物应为全新、未使用过的合格产品，符合国家有关标准；含运输、安装、调试、培训及\
             质保期内的售后服务。交货期不超过合同签订后30个日历天。"
        ));
    }
    d.heading("第四章 评标办法");
    d.paragraph("评标委员会依法组建，按照招标文件规定的评标方法和标准进行评审，推荐中标候选人。");
    d.heading("第五章 合同主要条款");
    d.paragraph("付款方式：验收合格后30日内支付合同金额的95%，质保期满无质量问题后支付余款。");
    d.heading("第六章 投标文件格式");
    d.paragraph("投标函、开标一览表、法定代表人授权书、资格证明文件、技术响应表、商务响应表。");
    d.finish().map_err(AppError::internal)
}

/// A bid file (投标文件) of `bidder` for `title`, offering `price` 元.
pub fn bid_file(title: &str, bidder: &str, price: &str) -> AppResult<Vec<u8>> {
    let mut d = Document::new("投标文件");
    d.footer(&format!("{bidder} · {title}"));
    d.heading("投标函");
    d.paragraph(&format!(
        "致采购人：我方已仔细研究“{title}”的招标文件，愿意按照招标文件的要求承担本项目，投标总价为人民币\
         {price}元，交货期30个日历天。"
    ));
    d.key_values(&[("投标人", bidder), ("投标总价（元）", price), ("交货期", "30个日历天")]);
    d.heading("技术响应");
    d.paragraph("我方提供的货物完全满足招标文件第三章采购需求的各项技术要求。");
    d.finish().map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_documents_are_pdfs_the_platform_accepts_with_their_chinese_text() {
        let doc =
            tender_document("某区教育局办公家具采购", "公开招标", &[("办公桌椅", "1,350,000.00")]).expect("document");
        let limits = crate::config::PdfSettings::default();
        let info = crate::pdf::check(bytes::Bytes::from(doc.clone()), &limits).await.expect("accepted");
        assert!(info.pages >= 1, "{} pages", info.pages);
        let text = lopdf::Document::load_mem(&doc).expect("load").extract_text(&[1]).expect("text");
        assert!(text.contains("招标公告"), "{text}");
        let bid = bid_file("某区教育局办公家具采购", "供应商甲", "1,268,000.00").expect("bid file");
        crate::pdf::check(bytes::Bytes::from(bid), &limits).await.expect("bid file accepted");
    }
}
