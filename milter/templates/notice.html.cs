<?cs # notice.html.cs - the text/html half of the notice.
     sealmail forces Config.VarEscapeMode = html for this file, so every
     var: below is escaped; Lab.Colour is checked to be #rrggbb before it
     gets here, and Lab.Logo to be an https URL.  Inline styles only:
     mail clients drop <style> blocks and external CSS. ?><!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Secure message from <?cs var:Lab.Name ?></title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1d1d1f;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f4f5f7;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:560px;background:#ffffff;border-radius:8px;overflow:hidden;">
<tr><td style="background:<?cs var:Lab.Colour ?>;padding:20px 24px;color:#ffffff;font-size:20px;font-weight:bold;">
<?cs if:Lab.Logo ?><img src="<?cs var:Lab.Logo ?>" alt="" height="32" style="height:32px;vertical-align:middle;margin-right:8px;border:0;"><?cs /if ?><?cs var:Lab.Name ?>
</td></tr>
<tr><td style="padding:24px;font-size:16px;line-height:1.5;">
<p style="margin:0 0 16px 0;">You have a secure message from <strong><?cs var:Lab.Name ?></strong>.</p>
<p style="margin:0 0 24px 0;">For your privacy the message itself is not in this email. Open it with the button below and confirm who you are.</p>
<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr>
<td style="border-radius:6px;background:<?cs var:Lab.Colour ?>;">
<a href="<?cs var:Link ?>" style="display:inline-block;padding:12px 24px;color:#ffffff;text-decoration:none;font-weight:bold;font-size:16px;">Read the message</a>
</td></tr></table>
<p style="margin:24px 0 0 0;font-size:14px;color:#555555;">Or copy this link into your browser:<br>
<a href="<?cs var:Link ?>" style="color:<?cs var:Lab.Colour ?>;word-break:break-all;"><?cs var:Link ?></a></p>
<p style="margin:16px 0 0 0;font-size:14px;color:#555555;">The message can be read until <?cs var:Expires ?>.</p>
<?cs if:Reference ?><p style="margin:8px 0 0 0;font-size:14px;color:#555555;">Reference: <?cs var:Reference ?></p>
<?cs /if ?></td></tr>
<?cs if:Lab.Contact ?><tr><td style="padding:16px 24px;background:#fafafa;font-size:13px;color:#666666;border-top:1px solid #eeeeee;">
Questions? Contact <?cs var:Lab.Name ?>: <?cs var:Lab.Contact ?>
</td></tr>
<?cs /if ?></table>
</td></tr>
</table>
</body>
</html>
